// Package invoicesrpc holds the Invoices sub-server's protobuf definitions
// and generated code, wire-compatible with lnd's invoicesrpc for the calls
// xlnd serves (hold invoices, settle, cancel, LookupInvoiceV2,
// SubscribeSingleInvoice). Regenerate with `make rpc`.
package invoicesrpc
