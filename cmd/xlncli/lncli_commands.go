package main

import "slices"

// lncliCommands are the top-level command names of lnd's lncli (lnd's
// master source, 0.21.99-beta, cmd/commands), the sub-server groups'
// (wallet, chain, peers, ...) included, sorted, so that xlncli can tell a
// command it does not have yet from a typo.
var lncliCommands = []string{
	"abandonchannel", "addholdinvoice", "addinvoice", "autopilot",
	"bakemacaroon", "batchopenchannel", "buildroute", "cancelinvoice",
	"chain", "changepassword", "channelbalance", "closeallchannels",
	"closechannel", "closedchannels", "connect", "constrainmacaroon",
	"create", "createwatchonly", "debuglevel", "decodepayreq",
	"decryptdebugpackage", "deletecanceledinvoice", "deletefwdhistory",
	"deletemacaroonid", "deletepayments", "describegraph", "disconnect",
	"encryptdebugpackage", "estimatefee", "estimateroutefee",
	"exportchanbackup", "feereport", "fish-completion", "fwdinghistory",
	"generatemanpage", "getchaninfo", "getdebuginfo", "getinfo",
	"getmccfg", "getnetworkinfo", "getnodeinfo", "getnodemetrics",
	"getrecoveryinfo", "help", "importgraph", "importmc", "listaliases",
	"listchaintxns", "listchannels", "listinvoices", "listmacaroonids",
	"listpayments", "listpeers", "listpermissions", "listunspent", "loadmc",
	"lookupinvoice", "neutrino", "newaddress", "openchannel", "payinvoice",
	"peers", "pendingchannels", "printmacaroon", "profile", "querymc",
	"queryprob", "queryroutes", "resetmc", "restorechanbackup", "sendcoins",
	"sendcustom", "sendmany", "sendpayment", "sendtoroute", "setmccfg",
	"settleinvoice", "signmessage", "state", "stop", "subscribecustom",
	"tower", "trackpayment", "unlock", "updatechanpolicy",
	"updatechanstatus", "verifychanbackup", "verifymessage", "version",
	"wallet", "walletbalance", "wtclient",
}

// isLncliCommand reports whether lncli has a top-level command name.
func isLncliCommand(name string) bool {
	_, found := slices.BinarySearch(lncliCommands, name)
	return found
}
