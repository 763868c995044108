package main

import (
	"encoding/json"
	"reflect"
	"testing"

	"lnd.xprv/internal/cpumeter"
)

var updateSeeds = []string{
	`{"result":{"payment_hash":"ab","value":"10","status":"IN_FLIGHT","failure_reason":"FAILURE_REASON_NONE","htlcs":[{"status":"SUCCEEDED","route":{"hops":[{"chan_id":"1","custom_records":{}}]},"preimage":"AQID"}],"first_hop_custom_records":{}}}`,
	`{"result":{"status":"SUCCEEDED", "failure_reason":"FAILURE_REASON_NONE", "fee":1.5e3, "x":[true,false,null,-0.5E-2]}}`,
	`{"result":{"status":"FAILED","failure_reason":"FAILURE_REASON_NO_ROUTE"}}`,
	`{"error":{"code":2,"message":"payment is in transition","details":[]}}`,
	`{"error":{"code":2,"message":"a \"quoted\" \u00e9 failure","details":[]}}`,
	`{"result":null}`, `{}`, `{"result":{}}`, `{"result":{"status":null}}`,
	`{"result":{"Status":"SUCCEEDED"}}`, `{"Result":{"status":"SUCCEEDED"}}`,
	`{"result":{"status":"A","status":"B"}}`, `{"result":{"status":1}}`, `{"result":"x"}`,
	`{"result":{"status":"SUCCEEDED"}} x`, `{"result":{"s":"\x"}}`, `{"result":{"s":"\u12"}}`,
	`{"result":{"s":01}}`, `[1]`, `"s"`, ``, `{"result":{"status":"é"}}`,
	`{"result":{"status":"A"},"result":{}}`, `{"x":1,"x":2,"result":{"status":"SUCCEEDED"}}`,
	`{"error":{"Message":"x"}}`, `{"RESULT":null}`, `{"error":null,"error":{"message":"m"}}`,
	`{"result":{"failure_reason":"F","failure_reason":"G"}}`, `{"result":{"FAILURE_reason":"F"}}`,
	`{"result":{"statuS":"x","status":"y"}}`, `{"error":{"message":null,"code":1}}`,
}

// TestScanUpdate: what the load reads of a line is encoding/json's
// reading of it, whichever path decides.
func TestScanUpdate(t *testing.T) {
	for _, line := range updateSeeds {
		checkUpdate(t, []byte(line))
	}
	if _, ok := scanUpdate([]byte(updateSeeds[0])); !ok {
		t.Fatal("a payment update of the gateway not taken by the scanner")
	}
}

func FuzzScanUpdate(f *testing.F) {
	for _, line := range updateSeeds {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkUpdate(t, line) })
}

func checkUpdate(t *testing.T, line []byte) {
	t.Helper()
	var want paymentUpdate
	wantErr := json.Unmarshal(line, &want)
	got, err := parseUpdate(line)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json %v", line, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: read %+v, encoding/json %+v", line, got, want)
	}
}

// gatewayUpdate is a final update as xlnd's gateway streams it.
const gatewayUpdate = `{"result":{"payment_hash":"600c4f1484e1ef9b154dca116c3d7379b2633294e948849a11d9532b46d9948a","value":"10","creation_date":"1796657802","fee":"0","payment_preimage":"57a822b164d6adb8d15aca5051e0a23f61c46f574c87af2c27d2f28c8365d6d6","value_sat":"10","value_msat":"10000","payment_request":"lnbcrt100n1p43d552pp5vqxy79yyu8hek92deggkc0tn0xexxv55a9ygfxs3m9fjk3kejj9qdqqxqyz5vqcqzzssp538gmxfdy207t0ver22mupur4trnhlp57meuravmxcllkcm85dmfq9qyysgq79qlk3q8ws6duz8xgcm72mh9mv2nmcy79s3ylsnkrdnjjm3s6l5368ggmfm894clm9xkjekykjgz5ga2nvhqel6e72le7kgfhm37e8qqc94r79","status":"SUCCEEDED","fee_sat":"0","fee_msat":"0","creation_time_ns":"1796657802178142780","htlcs":[{"attempt_id":"1","status":"SUCCEEDED","route":{"total_time_lock":526,"total_fees":"0","total_amt":"10","hops":[{"chan_id":"481586093031424","chan_capacity":"0","amt_to_forward":"10","fee":"0","expiry":526,"amt_to_forward_msat":"10000","fee_msat":"0","pub_key":"02754a09773eded2c23b877a31e105951e91a9ecaca081ed489d8970b9e75bf3f1","tlv_payload":true,"mpp_record":{"payment_addr":"idGzJaRT/LezI1K3wPB1WOd/hp7eeD6zZsf/bGz0btI=","total_amt_msat":"10000"},"custom_records":{},"metadata":""}],"total_fees_msat":"0","total_amt_msat":"10000"},"attempt_time_ns":"1796657802178175190","resolve_time_ns":"1796657802214679641","failure":null,"preimage":"V6gisWTWrbjRWspQUeCiP2HEb1dMh68sJ9LyjINl1tY="}],"payment_index":"1","failure_reason":"FAILURE_REASON_NONE","first_hop_custom_records":{}}}`

func BenchmarkParseUpdate(b *testing.B) {
	line := []byte(gatewayUpdate)
	b.ReportAllocs()
	m := cpumeter.Start()
	defer m.Report(b)
	for b.Loop() {
		u, err := parseUpdate(line)
		if err != nil || u.Result == nil || u.Result.Status != "SUCCEEDED" {
			b.Fatal(u, err)
		}
	}
}
