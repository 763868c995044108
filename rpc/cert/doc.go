// Package cert creates and loads the self-signed TLS certificate that the
// gRPC and REST listeners serve.
//
// At first start LoadOrCreate writes an ECDSA P-256 key and a self-signed
// certificate (valid for 14 months) naming localhost, 127.0.0.1, ::1, the
// host name and any configured extra IPs and domains. Later starts reuse the
// pair, unless the certificate has expired or no longer covers the configured
// names, in which case a new pair replaces it. A certificate the operator
// installed (not self-signed with our organization name) is never replaced. ECDSA matters: some lnd
// clients (LNbits' gRPC backend) accept nothing else.
package cert
