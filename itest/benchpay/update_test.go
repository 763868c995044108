package main

import (
	"encoding/json"
	"reflect"
	"testing"
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
