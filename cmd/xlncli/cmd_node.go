package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/macaroon.v2"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

// This file holds the node-level commands: message signing, macaroon
// management and log levels.

type signMessageCmd struct {
	a   *app
	Msg string `long:"msg" description:"the message to sign (or give it as the argument)"`
}

func (c *signMessageCmd) Usage() string { return "[signmessage-OPTIONS] <msg>" }

func (c *signMessageCmd) Execute(args []string) error {
	msg, err := oneValue("signmessage", "msg", c.Msg, args)
	if err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.SignMessage(c.a.ctx, &lnrpc.SignMessageRequest{Msg: []byte(msg)})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type verifyMessageCmd struct {
	a   *app
	Msg string `long:"msg" description:"the message that was signed"`
	Sig string `long:"sig" description:"the zbase32 signature"`
}

func (c *verifyMessageCmd) Usage() string { return "[verifymessage-OPTIONS] <msg> <signature>" }

func (c *verifyMessageCmd) Execute(args []string) error {
	msg, sig := c.Msg, c.Sig
	if msg == "" && len(args) > 0 {
		msg, args = args[0], args[1:]
	}
	if sig == "" && len(args) > 0 {
		sig, args = args[0], args[1:]
	}
	switch {
	case msg == "":
		return fmt.Errorf("verifymessage: message missing (argument or --msg)")
	case sig == "":
		return fmt.Errorf("verifymessage: signature missing (argument or --sig)")
	case len(args) > 0:
		return fmt.Errorf("verifymessage: unexpected arguments %q", args)
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.VerifyMessage(c.a.ctx, &lnrpc.VerifyMessageRequest{Msg: []byte(msg), Signature: sig})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

// oneValue returns a command's single value, from its flag or its one
// argument.
func oneValue(cmd, flag, fromFlag string, args []string) (string, error) {
	switch {
	case fromFlag != "" && len(args) == 0:
		return fromFlag, nil
	case fromFlag == "" && len(args) == 1 && args[0] != "":
		return args[0], nil
	}
	return "", fmt.Errorf("%s takes one %s (argument or --%s)", cmd, flag, flag)
}

type bakeMacaroonCmd struct {
	a                        *app
	SaveTo                   string `long:"save_to" description:"write the macaroon to this file instead of printing it in hex"`
	Timeout                  int64  `long:"timeout" description:"seconds the macaroon stays valid (time-before caveat; 0: no limit)"`
	IPAddress                string `long:"ip_address" description:"lock the macaroon to this client IP (ipaddr caveat)"`
	RootKeyID                uint64 `long:"root_key_id" description:"the root key to sign with; deletemacaroonid <id> revokes every macaroon of that key (default 0, which cannot be deleted)"`
	AllowExternalPermissions bool   `long:"allow_external_permissions" description:"accept entities and actions xlnd does not know"`
}

func (c *bakeMacaroonCmd) Usage() string {
	return "[bakemacaroon-OPTIONS] <entity>:<action> [<entity>:<action> ...]"
}

func (c *bakeMacaroonCmd) Execute(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("bakemacaroon needs at least one permission, e.g. info:read, onchain:write or uri:/lnrpc.Lightning/GetInfo")
	}
	req := &lnrpc.BakeMacaroonRequest{RootKeyId: c.RootKeyID, AllowExternalPermissions: c.AllowExternalPermissions}
	for _, p := range args {
		entity, action, ok := strings.Cut(p, ":")
		if !ok || entity == "" || action == "" {
			return fmt.Errorf("permission %q is not <entity>:<action>", p)
		}
		req.Permissions = append(req.Permissions, &lnrpc.MacaroonPermission{Entity: entity, Action: action})
	}
	if c.Timeout < 0 {
		return fmt.Errorf("--timeout must be >= 0")
	}
	var ip net.IP
	if c.IPAddress != "" {
		if ip = net.ParseIP(c.IPAddress); ip == nil {
			return fmt.Errorf("--ip_address %q is not an IP address", c.IPAddress)
		}
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.BakeMacaroon(c.a.ctx, req)
		if err != nil {
			return err
		}
		raw, err := hex.DecodeString(resp.Macaroon)
		if err != nil {
			return fmt.Errorf("xlnd sent a macaroon that is not hex: %w", err)
		}
		raw, err = addCaveats(raw, c.Timeout, ip)
		if err != nil {
			return err
		}
		if c.SaveTo == "" {
			_, err := fmt.Fprintf(c.a.out, "%x\n", raw)
			return err
		}
		path := expandPath(c.SaveTo, c.a.home)
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.a.out, "Macaroon saved to %s\n", path)
		return err
	})
}

// addCaveats adds a time-before caveat timeout seconds ahead (if not zero)
// and an ipaddr caveat (if ip is set), as lncli bakemacaroon does.
func addCaveats(raw []byte, timeout int64, ip net.IP) ([]byte, error) {
	if timeout == 0 && ip == nil {
		return raw, nil
	}
	mac := &macaroon.Macaroon{}
	if err := mac.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("decode baked macaroon: %w", err)
	}
	if timeout > 0 {
		deadline := time.Now().Add(time.Duration(timeout) * time.Second)
		if err := mac.AddFirstPartyCaveat([]byte(macaroons.TimeBeforeCaveat(deadline))); err != nil {
			return nil, err
		}
	}
	if ip != nil {
		if err := mac.AddFirstPartyCaveat([]byte(macaroons.IPAddrCaveat(ip))); err != nil {
			return nil, err
		}
	}
	return mac.MarshalBinary()
}

type listMacaroonIDsCmd struct{ a *app }

func (c *listMacaroonIDsCmd) Execute(args []string) error {
	if err := noArgs("listmacaroonids", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ListMacaroonIDs(c.a.ctx, &lnrpc.ListMacaroonIDsRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type deleteMacaroonIDCmd struct{ a *app }

func (c *deleteMacaroonIDCmd) Usage() string { return "<root_key_id>" }

func (c *deleteMacaroonIDCmd) Execute(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("deletemacaroonid takes one argument: the root key id")
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("root key id %q is not a number", args[0])
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.DeleteMacaroonID(c.a.ctx, &lnrpc.DeleteMacaroonIDRequest{RootKeyId: id})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type listPermissionsCmd struct{ a *app }

func (c *listPermissionsCmd) Execute(args []string) error {
	if err := noArgs("listpermissions", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ListPermissions(c.a.ctx, &lnrpc.ListPermissionsRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type debugLevelCmd struct {
	a     *app
	Show  bool   `long:"show" description:"list the subsystems"`
	Level string `long:"level" description:"a level for every subsystem (trace, debug, info, warn, error, critical, off), SUB=level pairs, or both, comma-separated"`
}

func (c *debugLevelCmd) Execute(args []string) error {
	if err := noArgs("debuglevel", args); err != nil {
		return err
	}
	if !c.Show && c.Level == "" {
		return fmt.Errorf("debuglevel needs --show or --level")
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.DebugLevel(c.a.ctx, &lnrpc.DebugLevelRequest{Show: c.Show, LevelSpec: c.Level})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type getRecoveryInfoCmd struct{ a *app }

func (c *getRecoveryInfoCmd) Execute(args []string) error {
	if err := noArgs("getrecoveryinfo", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.GetRecoveryInfo(c.a.ctx, &lnrpc.GetRecoveryInfoRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
