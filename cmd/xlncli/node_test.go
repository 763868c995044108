package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLncliCommandsSorted(t *testing.T) {
	if !slices.IsSorted(lncliCommands) {
		t.Fatal("lncliCommands must be sorted for the binary search")
	}
	// Every command xlncli has is one of lncli's.
	a := &app{}
	for _, c := range a.commands() {
		if !isLncliCommand(c.name) {
			t.Errorf("%s is not an lncli command", c.name)
		}
	}
}

func TestHelpVersionAndUnknown(t *testing.T) {
	e := newEnv(t)
	// With a command too: the version only, the command not run (state
	// would print the state).
	for _, args := range [][]string{{"--version"}, {"-v"}, {"-v", "state"}} {
		if out := e.mustCLI("", args...); !strings.HasPrefix(out, "xlncli version 0.20.0-beta xlnd-") || strings.Count(out, "\n") != 1 {
			t.Errorf("%v: %q", args, out)
		}
	}
	// help <command> is --help of that command, positional arguments
	// shown.
	usage := map[string]string{
		"connect":          "connect [connect-OPTIONS] <pubkey>@<host>[:port]",
		"disconnect":       "disconnect [disconnect-OPTIONS] <pubkey>",
		"newaddress":       "p2wkh|np2wkh|p2tr",
		"sendcoins":        "[<addr> [<amt>]]",
		"estimatefee":      `'{"<addr>": <amt_sat>, ...}'`,
		"signmessage":      "<msg>",
		"verifymessage":    "<msg> <signature>",
		"bakemacaroon":     "<entity>:<action> [<entity>:<action> ...]",
		"deletemacaroonid": "deletemacaroonid <root_key_id>",
	}
	for cmd, want := range usage {
		for _, args := range [][]string{{"help", cmd}, {cmd, "--help"}, {"h", cmd}} {
			if out := e.mustCLI("", args...); !strings.Contains(out, want) {
				t.Errorf("%v lacks %q:\n%s", args, want, out)
			}
		}
	}
	if out := e.mustCLI("", "help", "connect"); !strings.Contains(out, "timeout with its unit (30s, 2m)") {
		t.Errorf("connect --timeout unit not in help:\n%s", out)
	}
	if out := e.mustCLI("", "help"); !strings.Contains(out, "bakemacaroon") {
		t.Errorf("help lists no commands:\n%s", out)
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"exportchanbackup"}, "exportchanbackup is an lncli command that this release of xlncli does not have yet"},
		{[]string{"help", "restorechanbackup"}, "restorechanbackup is an lncli command that this release of xlncli does not have yet"},
		{[]string{"nosuchcommand"}, "Unknown command"},
		{[]string{"help", "nosuchcommand"}, `unknown command "nosuchcommand"`},
	}
	for _, tc := range tests {
		_, errOut, code := e.cli("", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "did you mean") && tc.args[0] != "nosuchcommand" {
			t.Errorf("xlncli %v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestNoWalletYet(t *testing.T) {
	e := newEnv(t)
	_, errOut, code := e.cli("", "getinfo")
	if code == 0 || !strings.Contains(errOut, "wallet does not exist yet") || !strings.Contains(errOut, "xlncli create") {
		t.Fatalf("getinfo before create: exit %d, %q", code, errOut)
	}
	// Scripted create without the flags: the hint, not "unexpected end
	// of input".
	_, errOut, code = e.cli("", "create")
	if code == 0 || !strings.Contains(errOut, "--password_file") || strings.Contains(errOut, "unexpected end") {
		t.Fatalf("create without input: exit %d, %q", code, errOut)
	}
	// The non-interactive create warns on stderr; stdout stays JSON.
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := e.cli("", "create", "--password_file", pwFile)
	if code != 0 || !strings.Contains(errOut, "only backup") {
		t.Fatalf("create: exit %d, stderr %q", code, errOut)
	}
	var seed map[string][]string
	if err := json.Unmarshal([]byte(out), &seed); err != nil || len(seed["cipher_seed_mnemonic"]) != 24 {
		t.Fatalf("create stdout %q: %v", out, err)
	}
}

func TestInteractiveSeedWarning(t *testing.T) {
	e := newEnv(t)
	in := "password1\npassword1\nn\n\nyes\n"
	out := e.mustCLI(in, "create")
	if !strings.Contains(out, "only backup of this wallet") {
		t.Fatalf("no warning with the seed:\n%s", out)
	}
}

func TestNodeCommands(t *testing.T) {
	e := newEnv(t)
	e.createAndActivate()
	pub := hex.EncodeToString(e.node.identity.SerializeCompressed())

	var signed struct{ Signature string }
	if err := json.Unmarshal([]byte(e.mustCLI("", "signmessage", "hello xlnd")), &signed); err != nil || signed.Signature == "" {
		t.Fatalf("signmessage: %v", err)
	}
	var verified struct {
		Valid  bool
		Pubkey string
	}
	out := e.mustCLI("", "verifymessage", "--msg", "hello xlnd", "--sig", signed.Signature)
	if err := json.Unmarshal([]byte(out), &verified); err != nil || !verified.Valid || verified.Pubkey != pub {
		t.Fatalf("verifymessage: %s", out)
	}
	out = e.mustCLI("", "verifymessage", "other message", signed.Signature)
	if err := json.Unmarshal([]byte(out), &verified); err != nil || verified.Valid || verified.Pubkey == pub {
		t.Fatalf("verifymessage of another message: %s", out)
	}

	// A baked info:read macaroon saved to a file reads and cannot send.
	macFile := filepath.Join(t.TempDir(), "info.macaroon")
	if out := e.mustCLI("", "bakemacaroon", "--root_key_id", "3", "--save_to", macFile, "info:read"); !strings.Contains(out, "Macaroon saved to") {
		t.Fatalf("bakemacaroon: %s", out)
	}
	e.mustCLI("", "--macaroonpath", macFile, "getinfo")
	_, errOut, code := e.cli("", "--macaroonpath", macFile, "newaddress", "p2wkh")
	if code == 0 || !strings.Contains(errOut, "PermissionDenied") {
		t.Fatalf("newaddress with info:read: %d %s", code, errOut)
	}
	if hexMac := strings.TrimSpace(e.mustCLI("", "bakemacaroon", "--timeout", "60", "onchain:read")); len(hexMac) < 100 {
		t.Fatalf("bakemacaroon hex: %q", hexMac)
	}
	if out := e.mustCLI("", "listmacaroonids"); !strings.Contains(out, `"0"`) || !strings.Contains(out, `"3"`) {
		t.Fatalf("listmacaroonids: %s", out)
	}
	if out := e.mustCLI("", "deletemacaroonid", "3"); !strings.Contains(out, `"deleted": true`) {
		t.Fatalf("deletemacaroonid: %s", out)
	}
	if _, errOut, code := e.cli("", "--macaroonpath", macFile, "getinfo"); code == 0 || !strings.Contains(errOut, "Unauthenticated") {
		t.Fatalf("getinfo with a revoked macaroon: %d %s", code, errOut)
	}
	if out := e.mustCLI("", "listpermissions"); !strings.Contains(out, `"/lnrpc.Lightning/SendCoins"`) {
		t.Fatalf("listpermissions: %s", out)
	}
	if out := e.mustCLI("", "debuglevel", "--show"); !strings.Contains(out, `"sub_systems": "PEER RPCS"`) {
		t.Fatalf("debuglevel --show: %s", out)
	}
	if out := e.mustCLI("", "debuglevel", "--level", "PEER=debug"); !strings.Contains(out, "PEER=DBG") {
		t.Fatalf("debuglevel --level: %s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bakemacaroon"}, "at least one permission"},
		{[]string{"bakemacaroon", "info"}, "not <entity>:<action>"},
		{[]string{"bakemacaroon", "wallet:read"}, "invalid permission entity"},
		{[]string{"deletemacaroonid", "x"}, "not a number"},
		{[]string{"deletemacaroonid", "0"}, "cannot be deleted"},
		{[]string{"debuglevel"}, "--show or --level"},
		{[]string{"debuglevel", "--level", "NOPE=debug"}, "unknown subsystem"},
		{[]string{"signmessage"}, "takes one msg"},
		{[]string{"verifymessage", "msg"}, "signature missing"},
	} {
		_, errOut, code := e.cli("", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("xlncli %v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}
