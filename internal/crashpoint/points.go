package crashpoint

// Point names one persisted step.
type Point string

// EnvVar chooses, in a crashpoint build, the point at which the process
// kills itself.
const EnvVar = "XLND_CRASHPOINT"

// Marker starts the line a crashpoint build writes to stderr just before
// it kills itself; the point's name follows.
const Marker = "xlnd crashpoint reached: "

// The funding flow (package funding), opener and accepter.
const (
	// FundingCreated: the opener built funding_created (its signature of
	// the peer's first commitment; the coins leased in the wallet) and
	// has not sent it. Nothing of the channel is on disk but the lease.
	FundingCreated Point = "funding-created"

	// FundingSignedPersisted: the accepter persisted the channel and
	// has not sent funding_signed.
	FundingSignedPersisted Point = "funding-signed-persisted"

	// FundingBeforeBroadcast: the opener checked funding_signed and
	// persisted the channel with its signed funding transaction, and
	// has not broadcast it.
	FundingBeforeBroadcast Point = "funding-before-broadcast"

	// FundingAfterBroadcast: the funding transaction is broadcast and
	// the record that says so not yet written.
	FundingAfterBroadcast Point = "funding-after-broadcast"

	// FundingConfirmed: the funding transaction's confirmation (the
	// short channel id) is persisted and our channel_ready not sent.
	FundingConfirmed Point = "funding-confirmed"

	// FundingReadyReceived: the peer's channel_ready (its second
	// per-commitment point) is persisted.
	FundingReadyReceived Point = "funding-ready-received"

	// FundingOpen: the channel is open on disk (its pending record
	// deleted) and not yet handed to the link and switch.
	FundingOpen Point = "funding-open"
)

// The commitment round (package lnwallet: the points are in the state
// machine's transitions and in Pending.Persist, so that any link that
// drives the channel reaches them).
const (
	// CommitSigned: our commitment_signed is persisted (the peer's next
	// commitment) and not sent.
	CommitSigned Point = "commit-signed"

	// CommitReceived: the peer's commitment_signed is checked and held,
	// and we have not revoked: nothing of it is on disk yet.
	CommitReceived Point = "commit-received"

	// CommitRevoked: our new commitment and our revocation of the
	// previous one are persisted and revoke_and_ack is not sent.
	CommitRevoked Point = "commit-revoked"

	// CommitRevocationReceived: the peer's revoke_and_ack is persisted
	// (the revocation log, the forwarding package) and its resolutions
	// not handed on.
	CommitRevocationReceived Point = "commit-revocation-received"
)

// The switch (package htlcswitch). A circuit is written with the
// commitment_signed that offers its HTLC: CommitSigned covers "after the
// circuit is written and before the HTLC is forwarded".
const (
	// SwitchResolutionReceived: a settle or fail of a forwarded HTLC,
	// irrevocable on the outgoing channel, is handed to the incoming
	// link and not yet committed there.
	SwitchResolutionReceived Point = "switch-resolution-received"

	// SwitchResultStored: the results of our own attempts are persisted
	// (their circuits deleted) and their waiters not yet woken.
	SwitchResultStored Point = "switch-result-stored"
)

// The payment lifecycle (package routing).
const (
	// PaymentAttemptRegistered: an attempt is persisted with its route
	// and session key, and its HTLC not handed to the switch.
	PaymentAttemptRegistered Point = "payment-attempt-registered"

	// PaymentResultKnown: an attempt's result came from the switch
	// (where it is persisted) and the payment has not recorded it.
	PaymentResultKnown Point = "payment-result-known"

	// PaymentResultRecorded: the payment recorded the attempt's result
	// (settled, failed, or the payment failed) and has not acted on it.
	PaymentResultRecorded Point = "payment-result-recorded"
)

// The invoice registry (package invoices).
const (
	// InvoiceSettled: an invoice is persisted as settled and the HTLCs
	// that pay it not yet fulfilled.
	InvoiceSettled Point = "invoice-settled"

	// InvoiceHeldExpired: a held HTLC near its expiry is persisted as
	// canceled in its invoice (the hold invoice canceled) and the link
	// has not failed it back.
	InvoiceHeldExpired Point = "invoice-held-expired"
)

// The cooperative close (package htlcswitch: the link's part, BOLT 2
// shutdown and closing_signed; the daemon's close path once the closing
// transaction confirms). Our closing_signed proposals are not persisted:
// BOLT 2 restarts the negotiation on reconnection, and the funding
// output is watched from the first shutdown on, so that whichever
// closing transaction we signed confirms, it is recognised by its
// delivery script.
const (
	// CloseShutdownPersisted: the operator's close is persisted (our
	// delivery script, the fee limits) and our shutdown not sent.
	CloseShutdownPersisted Point = "close-shutdown-persisted"

	// CloseShutdownReceived: the peer's shutdown is persisted (with our
	// own when the peer started the close) and our shutdown, if it is
	// our reply, not sent.
	CloseShutdownReceived Point = "close-shutdown-received"

	// CloseAgreed: the agreed closing transaction is persisted, not
	// broadcast, and our last closing_signed not sent.
	CloseAgreed Point = "close-agreed"

	// CloseConfirmed: the closing transaction is deep enough and the
	// channel is persisted as closed; its link, the RPC streams and
	// the event subscribers not yet told.
	CloseConfirmed Point = "close-confirmed"
)

// Force close and on-chain resolution (package contractcourt).
const (
	// ForceCloseRecorded: the operator's force close is persisted (the
	// contract with our commitment; the open channel deleted) and the
	// commitment not broadcast.
	ForceCloseRecorded Point = "force-close-recorded"

	// ForceCloseBroadcast: our commitment is broadcast and the caller
	// not told (nothing further is recorded until it confirms).
	ForceCloseBroadcast Point = "force-close-broadcast"

	// CommitmentConfirmed: a commitment's confirmation is persisted
	// (the contract with every output to take, the channel closed) and
	// nothing is watched or swept yet.
	CommitmentConfirmed Point = "commitment-confirmed"

	// BreachDetected: the peer's revoked commitment confirmed and the
	// retribution is persisted (every output of it to take); no
	// justice transaction is built.
	BreachDetected Point = "breach-detected"

	// SweepRecorded: a sweep of mature contract outputs (a justice
	// transaction too) is persisted with the contract and not
	// broadcast.
	SweepRecorded Point = "sweep-recorded"

	// HTLCTxPublished: our second-level HTLC transaction of an anchors
	// channel, whose fee a wallet coin pays, is recorded by the wallet
	// (the coin spent) and broadcast, and the court has not noted it:
	// after a restart it builds the transaction again. (Without
	// anchors the transaction is rebuilt from the contract and sent
	// every block; nothing of it is persisted.)
	HTLCTxPublished Point = "htlc-tx-published"

	// JusticeRecorded: a justice transaction is persisted with the
	// contract and not broadcast.
	JusticeRecorded Point = "justice-recorded"

	// OutputResolved: the spend of a contract output (our sweep, the
	// peer's claim, a cheater's HTLC transaction) is persisted, and
	// what follows from it (the next output watched, the next sweep)
	// not started.
	OutputResolved Point = "output-resolved"

	// ContractFinal: the last transaction resolving a contract is deep
	// enough (the court's final depth) and the contract is persisted
	// final, the channel fully resolved; its watches are not dropped.
	ContractFinal Point = "contract-final"
)

// Info describes a point for the crash test.
type Info struct {
	Point Point

	// Waits names what the running node needs before a scenario can
	// reach the point (empty: reachable on main now). The crash test
	// requires every point without Waits to be exercised.
	Waits string
}

// All lists every point in flow order. A new persisted step adds its
// point here (see docs/crashtest.md).
func All() []Info {
	return []Info{
		{Point: FundingCreated},
		{Point: FundingSignedPersisted},
		{Point: FundingBeforeBroadcast},
		{Point: FundingAfterBroadcast},
		{Point: FundingConfirmed},
		{Point: FundingReadyReceived},
		{Point: FundingOpen},
		{Point: CommitSigned},
		{Point: CommitReceived},
		{Point: CommitRevoked},
		{Point: CommitRevocationReceived},
		{Point: SwitchResolutionReceived},
		{Point: SwitchResultStored},
		{Point: PaymentAttemptRegistered},
		{Point: PaymentResultKnown},
		{Point: PaymentResultRecorded},
		{Point: InvoiceSettled},
		{Point: InvoiceHeldExpired},
		{Point: CloseShutdownPersisted},
		{Point: CloseShutdownReceived},
		{Point: CloseAgreed},
		{Point: CloseConfirmed},
		{Point: ForceCloseRecorded},
		{Point: ForceCloseBroadcast},
		{Point: CommitmentConfirmed},
		{Point: BreachDetected},
		{Point: SweepRecorded},
		{Point: HTLCTxPublished},
		{Point: JusticeRecorded},
		{Point: OutputResolved},
		{Point: ContractFinal},
	}
}

// Lookup returns the point named name, if it is declared.
func Lookup(name string) (Info, bool) {
	for _, i := range All() {
		if string(i.Point) == name {
			return i, true
		}
	}
	return Info{}, false
}
