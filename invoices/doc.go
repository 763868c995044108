// Package invoices is the node's invoice registry: it creates invoices
// (BOLT 11 payment requests signed with the node key, through
// invoices/bolt11), keeps them in channeldb, answers look-ups and
// lists, streams changes to subscribers, and decides the fate of every
// HTLC that ends at this node.
//
// # The link's side
//
// When a link has locked in an HTLC whose onion says we are the final
// hop, it calls NotifyExitHopHtlc with the HTLC and the onion payload
// (PayloadFromOnion). The
// registry applies BOLT 4's final-hop rules and persists its decision
// before it answers:
//
//   - a Resolution with a Preimage: fulfil the HTLC;
//   - a Resolution with a Failure: fail it with that BOLT 4 message
//     (incorrect_or_unknown_payment_details carrying the HTLC's amount
//     and the current height, final_incorrect_htlc_amount,
//     final_incorrect_cltv_expiry, or mpp_timeout);
//   - nil: the HTLC is held (one part of a multi-part payment still
//     incomplete, or a hold invoice waiting for SettleInvoice or
//     CancelInvoice); the registry later calls the resolve function
//     given with the HTLC, once, from its own goroutine.
//
// After a restart the link replays the HTLCs it had not resolved. The
// registry recognises an HTLC it already accepted by its circuit key and
// answers from what it stored: a settled invoice is settled once, and
// its HTLCs are fulfilled with the stored preimage however often they
// are replayed. Held parts of an incomplete multi-part payment get a new
// hold timer at start.
//
// # Rules (BOLT 4 final node, BOLT 11 payee)
//
// An HTLC carrying less than the payload's amt_to_forward is refused
// with final_incorrect_htlc_amount, one expiring before its
// outgoing_cltv_value with final_incorrect_cltv_expiry. Otherwise it is
// refused with incorrect_or_unknown_payment_details when the payment
// hash is unknown, the payment_secret is missing or wrong, the invoice is
// settled, canceled or expired, the total is below the invoice's amount
// or above twice it, the set is already paid, the parts' total_msat
// disagree (the held parts then fail too), or the CLTV expiry is below
// the current height plus the invoice's min_final_cltv_expiry_delta. A
// keysend payment (preimage in record 5482373484) is accepted only with
// Config.AcceptKeysend; it creates its own settled invoice. Parts of a
// multi-part payment wait until total_msat has arrived, or are all
// failed with mpp_timeout Config.MPPTimeout after the first part
// arrived.
package invoices
