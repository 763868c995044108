package rpc

import "lnd.xprv/rpc/macaroons"

// Permissions returns, for every method of the Lightning service and the
// sub-servers (WalletKit, ChainNotifier, Versioner), the macaroon ops it
// needs (lnd's choices, so that macaroons baked for lnd mean the same here).
// WalletUnlocker and State need no macaroon: the first runs before there is
// a root key, the second reveals only the start-up state.
func Permissions() map[string][]macaroons.Op {
	read := func(e string) []macaroons.Op { return []macaroons.Op{{Entity: e, Action: "read"}} }
	write := func(e string) []macaroons.Op { return []macaroons.Op{{Entity: e, Action: "write"}} }
	gen := func(e string) []macaroons.Op { return []macaroons.Op{{Entity: e, Action: "generate"}} }
	return map[string][]macaroons.Op{
		"/lnrpc.Lightning/GetInfo":                  read("info"),
		"/lnrpc.Lightning/StopDaemon":               write("info"),
		"/lnrpc.Lightning/ConnectPeer":              write("peers"),
		"/lnrpc.Lightning/DisconnectPeer":           write("peers"),
		"/lnrpc.Lightning/ListPeers":                read("peers"),
		"/lnrpc.Lightning/SubscribePeerEvents":      read("peers"),
		"/lnrpc.Lightning/NewAddress":               write("address"),
		"/lnrpc.Lightning/WalletBalance":            read("onchain"),
		"/lnrpc.Lightning/ListUnspent":              read("onchain"),
		"/lnrpc.Lightning/GetTransactions":          read("onchain"),
		"/lnrpc.Lightning/EstimateFee":              read("onchain"),
		"/lnrpc.Lightning/SendCoins":                write("onchain"),
		"/lnrpc.Lightning/GetRecoveryInfo":          read("info"),
		"/lnrpc.Lightning/DebugLevel":               write("info"),
		"/lnrpc.Lightning/SignMessage":              write("message"),
		"/lnrpc.Lightning/VerifyMessage":            read("message"),
		"/lnrpc.Lightning/BakeMacaroon":             gen("macaroon"),
		"/lnrpc.Lightning/ListMacaroonIDs":          read("macaroon"),
		"/lnrpc.Lightning/DeleteMacaroonID":         write("macaroon"),
		"/lnrpc.Lightning/ListPermissions":          read("info"),
		"/lnrpc.Lightning/CheckMacaroonPermissions": read("macaroon"),
		"/lnrpc.Lightning/DescribeGraph":            read("info"),
		"/lnrpc.Lightning/GetNodeInfo":              read("info"),
		"/lnrpc.Lightning/GetChanInfo":              read("info"),
		"/lnrpc.Lightning/GetNetworkInfo":           read("info"),
		"/lnrpc.Lightning/QueryRoutes":              read("info"),
		"/lnrpc.Lightning/SubscribeChannelGraph":    read("info"),
		"/lnrpc.Lightning/OpenChannel":              {{Entity: "onchain", Action: "write"}, {Entity: "offchain", Action: "write"}},
		"/lnrpc.Lightning/OpenChannelSync":          {{Entity: "onchain", Action: "write"}, {Entity: "offchain", Action: "write"}},
		"/lnrpc.Lightning/PendingChannels":          read("offchain"),
		"/lnrpc.Lightning/CloseChannel":             {{Entity: "onchain", Action: "write"}, {Entity: "offchain", Action: "write"}},
		"/lnrpc.Lightning/ListChannels":             read("offchain"),
		"/lnrpc.Lightning/ClosedChannels":           read("offchain"),
		"/lnrpc.Lightning/ChannelBalance":           read("offchain"),
		"/lnrpc.Lightning/SubscribeChannelEvents":   read("offchain"),
		"/lnrpc.Lightning/FeeReport":                read("offchain"),
		"/lnrpc.Lightning/UpdateChannelPolicy":      write("offchain"),
		"/lnrpc.Lightning/ForwardingHistory":        read("offchain"),

		"/walletrpc.WalletKit/ListUnspent":        read("onchain"),
		"/walletrpc.WalletKit/PendingSweeps":      read("onchain"),
		"/walletrpc.WalletKit/BumpFee":            write("onchain"),
		"/walletrpc.WalletKit/ListSweeps":         read("onchain"),
		"/walletrpc.WalletKit/LeaseOutput":        write("onchain"),
		"/walletrpc.WalletKit/ReleaseOutput":      write("onchain"),
		"/walletrpc.WalletKit/ListLeases":         read("onchain"),
		"/walletrpc.WalletKit/DeriveNextKey":      read("address"),
		"/walletrpc.WalletKit/DeriveKey":          read("address"),
		"/walletrpc.WalletKit/NextAddr":           read("address"),
		"/walletrpc.WalletKit/ListAccounts":       read("onchain"),
		"/walletrpc.WalletKit/PublishTransaction": write("onchain"),
		"/walletrpc.WalletKit/SendOutputs":        write("onchain"),
		"/walletrpc.WalletKit/EstimateFee":        read("onchain"),
		"/walletrpc.WalletKit/LabelTransaction":   write("onchain"),
		"/walletrpc.WalletKit/FundPsbt":           write("onchain"),
		"/walletrpc.WalletKit/SignPsbt":           write("onchain"),
		"/walletrpc.WalletKit/FinalizePsbt":       write("onchain"),

		"/chainrpc.ChainNotifier/RegisterConfirmationsNtfn": read("onchain"),
		"/chainrpc.ChainNotifier/RegisterSpendNtfn":         read("onchain"),
		"/chainrpc.ChainNotifier/RegisterBlockEpochNtfn":    read("onchain"),

		"/verrpc.Versioner/GetVersion": read("info"),

		"/lnrpc.Lightning/AddInvoice":                  write("invoices"),
		"/lnrpc.Lightning/LookupInvoice":               read("invoices"),
		"/lnrpc.Lightning/ListInvoices":                read("invoices"),
		"/lnrpc.Lightning/SubscribeInvoices":           read("invoices"),
		"/lnrpc.Lightning/DecodePayReq":                read("offchain"),
		"/invoicesrpc.Invoices/AddHoldInvoice":         write("invoices"),
		"/invoicesrpc.Invoices/SettleInvoice":          write("invoices"),
		"/invoicesrpc.Invoices/CancelInvoice":          write("invoices"),
		"/invoicesrpc.Invoices/LookupInvoiceV2":        read("invoices"),
		"/invoicesrpc.Invoices/SubscribeSingleInvoice": read("invoices"),

		"/routerrpc.Router/QueryMissionControl":     read("offchain"),
		"/routerrpc.Router/GetMissionControlConfig": read("offchain"),
		"/routerrpc.Router/QueryProbability":        read("offchain"),
		"/routerrpc.Router/ResetMissionControl":     write("offchain"),

		"/lnrpc.Lightning/SendPaymentSync":   write("offchain"),
		"/lnrpc.Lightning/ListPayments":      read("offchain"),
		"/lnrpc.Lightning/DeletePayment":     write("offchain"),
		"/lnrpc.Lightning/DeleteAllPayments": write("offchain"),
		"/routerrpc.Router/SendPaymentV2":    write("offchain"),
		"/routerrpc.Router/TrackPaymentV2":   read("offchain"),
		"/routerrpc.Router/TrackPayments":    read("offchain"),
		"/routerrpc.Router/SendToRouteV2":    write("offchain"),
		"/routerrpc.Router/BuildRoute":       read("offchain"),
		"/routerrpc.Router/EstimateRouteFee": read("offchain"),
	}
}

// Service names whose calls need no macaroon.
const (
	unlockerServiceName = "lnrpc.WalletUnlocker"
	stateServiceName    = "lnrpc.State"
)
