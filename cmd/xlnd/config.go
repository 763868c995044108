package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcutil"
	flags "github.com/jessevdk/go-flags"

	"lnd.xprv/internal/logging"
	"lnd.xprv/internal/netparams"
	"lnd.xprv/routing"
)

const (
	defaultConfigFilename = "xlnd.conf"
	defaultPeerPort       = 9735
	defaultRPCPort        = 10009
	defaultRESTPort       = 8080
	defaultColor          = "#3399ff"
	maxAliasLen           = 32
)

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

type btcdConfig struct {
	RPCHost string `long:"rpchost" description:"btcd RPC host:port (default: btcd's RPC port for the network on localhost)"`
	RPCUser string `long:"rpcuser" description:"btcd RPC user name"`
	RPCPass string `long:"rpcpass" default-mask:"-" description:"btcd RPC password"`
	RPCCert string `long:"rpccert" description:"btcd's RPC TLS certificate"`
}

type torConfig struct {
	Active          bool   `long:"active" description:"dial peers through Tor's SOCKS proxy"`
	SOCKS           string `long:"socks" description:"Tor SOCKS proxy host:port"`
	Control         string `long:"control" description:"Tor control port host:port, used to publish an onion service"`
	Password        string `long:"password" default-mask:"-" description:"Tor control port password (HASHEDPASSWORD authentication)"`
	V3              bool   `long:"v3" description:"publish a v3 onion service for the peer port"`
	PrivateKeyPath  string `long:"privatekeypath" description:"where the onion service's private key is kept"`
	StreamIsolation bool   `long:"streamisolation" description:"a fresh Tor circuit for each connection"`
}

type devConfig struct {
	RequireFeatures []uint16 `long:"requirefeature" description:"DEV ONLY: also require this feature bit of peers in init (tests of incompatible peers)"`
}

// config is every option of xlnd. The command line wins over xlnd.conf.
type config struct {
	ShowVersion bool   `short:"V" long:"version" description:"print the version and exit"`
	DataDir     string `long:"datadir" description:"directory for xlnd's data"`
	ConfigFile  string `long:"configfile" description:"config file (default: <datadir>/xlnd.conf)"`
	LogDir      string `long:"logdir" description:"directory for log files (default: <datadir>/logs)"`

	MaxLogFiles    int    `long:"maxlogfiles" description:"rotated log files to keep (0 keeps all)"`
	MaxLogFileSize int    `long:"maxlogfilesize" description:"size in MB at which a log file is rotated"`
	DebugLevel     string `short:"d" long:"debuglevel" description:"log level: one of trace, debug, info, warn, error, critical, off; or SUBSYSTEM=level,... pairs"`

	Network string `long:"network" description:"mainnet, testnet, testnet4, signet, regtest or simnet"`

	Listeners     []string `long:"listen" description:"interface:port for peer connections (repeatable)"`
	NoListen      bool     `long:"nolisten" description:"accept no incoming peer connections"`
	RPCListeners  []string `long:"rpclisten" description:"interface:port for gRPC (repeatable)"`
	RESTListeners []string `long:"restlisten" description:"interface:port for REST (repeatable)"`
	NoREST        bool     `long:"norest" description:"do not serve REST"`
	ExternalIPs   []string `long:"externalip" description:"address:port to advertise to peers (repeatable)"`
	MaxInbound    int      `long:"maxinboundpeers" description:"most inbound peer connections held at once"`

	TrickleDelay int `long:"trickledelay" description:"time in milliseconds between each release of gossip to peers (as lnd's --trickledelay)"`

	ChanEnableTimeout        time.Duration `long:"chan-enable-timeout" description:"how long a peer must stay connected before its channels we announced disabled are enabled again"`
	ChanDisableTimeout       time.Duration `long:"chan-disable-timeout" description:"how long a peer must be offline before its channels are announced disabled"`
	ChanStatusSampleInterval time.Duration `long:"chan-status-sample-interval" description:"how often peers' presence is checked against those timeouts"`

	DefaultChanConfs   int `long:"defaultchanconfs" description:"confirmations required of channels opened to us (0: 3 on regtest and simnet, else 1 to 6 by channel size, as lnd)"`
	MaxPendingChannels int `long:"maxpendingchannels" description:"channels a peer may have pending with us at once"`

	Alias string `long:"alias" description:"node alias, at most 32 bytes"`
	Color string `long:"color" description:"node color, #RRGGBB"`

	TLSCertPath     string   `long:"tlscertpath" description:"RPC TLS certificate (default: <datadir>/tls.cert)"`
	TLSKeyPath      string   `long:"tlskeypath" description:"RPC TLS key (default: <datadir>/tls.key)"`
	TLSExtraIPs     []string `long:"tlsextraip" description:"extra IP for the RPC certificate (repeatable)"`
	TLSExtraDomains []string `long:"tlsextradomain" description:"extra domain for the RPC certificate (repeatable)"`

	AcceptKeysend bool `long:"accept-keysend" description:"accept spontaneous payments (keysend: the preimage in onion record 5482373484)"`

	NoSeedBackup       bool   `long:"noseedbackup" description:"DEV ONLY: create a wallet with no password and no seed shown, at start"`
	WalletPasswordFile string `long:"wallet-unlock-password-file" description:"unlock the wallet at start with the password in this file"`

	Btcd btcdConfig `group:"btcd" namespace:"btcd"`
	Tor  torConfig  `group:"tor" namespace:"tor"`
	Dev  devConfig  `group:"dev" namespace:"dev"`

	Bitcoin bitcoinConfig `group:"bitcoin" namespace:"bitcoin"`
	Pprof   pprofConfig   `group:"pprof" namespace:"pprof"`

	DB      dbConfig      `group:"db" namespace:"db"`
	Cluster clusterConfig `group:"cluster" namespace:"cluster"`

	Routerrpc routerrpcConfig `group:"routerrpc" namespace:"routerrpc"`

	// Derived by loadConfig.
	network *netparams.Network
}

func defaultDataDir() string { return btcutil.AppDataDir("xlnd", false) }

func defaultConfig() config {
	return config{
		DataDir:        defaultDataDir(),
		MaxLogFiles:    3,
		MaxLogFileSize: 10,
		DebugLevel:     "info",
		Network:        "mainnet",
		MaxInbound:     100,
		TrickleDelay:   90_000,

		ChanEnableTimeout:        routing.DefaultChanEnableTimeout,
		ChanDisableTimeout:       routing.DefaultChanDisableTimeout,
		ChanStatusSampleInterval: routing.DefaultChanStatusSampleInterval,
		Color:                    defaultColor,
		Btcd: btcdConfig{
			RPCCert: filepath.Join(btcutil.AppDataDir("btcd", false), "rpc.cert"),
		},
		Bitcoin: defaultBitcoinConfig(),
		Tor: torConfig{
			SOCKS:   "localhost:9050",
			Control: "localhost:9051",
		},
		DB:        defaultDBConfig(),
		Cluster:   defaultClusterConfig(),
		Routerrpc: routerrpcConfig{MCFlushInterval: time.Second},
	}
}

// routerrpcConfig holds the router's options, with lnd's names.
type routerrpcConfig struct {
	MCFlushInterval time.Duration `long:"mcflushinterval" description:"how often mission control's results are saved (they are also saved at shutdown); 0 saves after every payment attempt"`
}

// chainDir is where the wallet and the macaroons of this network live
// (lnd's layout, so lncli --lnddir finds them).
func (c *config) chainDir() string {
	return filepath.Join(c.DataDir, "data", "chain", "bitcoin", c.network.Name)
}

// graphDir holds the channel database of this network, channel.db, with
// the invoices (lnd's layout: <datadir>/data/graph/<network>).
func (c *config) graphDir() string {
	return filepath.Join(c.DataDir, "data", "graph", c.network.Name)
}

// logFile is the rotated log of this network.
func (c *config) logFile() string {
	return filepath.Join(c.LogDir, "bitcoin", c.network.Name, "xlnd.log")
}

// errHelp means the usage was printed on request.
var errHelp = errors.New("help requested")

// loadConfig reads the command line and the config file; the command line
// wins. Errors are one line naming the option and what is allowed.
func loadConfig(args []string) (*config, error) {
	// First pass: the command line alone, to find the data dir and config
	// file, and to learn which options it sets.
	cmdCfg := defaultConfig()
	cmdParser := flags.NewParser(&cmdCfg, flags.HelpFlag|flags.PassDoubleDash)
	if _, err := cmdParser.ParseArgs(args); err != nil {
		var fe *flags.Error
		if errors.As(err, &fe) && fe.Type == flags.ErrHelp {
			fmt.Fprintln(os.Stdout, err)
			return nil, errHelp
		}
		return nil, err
	}
	if cmdCfg.ShowVersion {
		return &cmdCfg, nil
	}

	cfg := defaultConfig()
	cfg.DataDir = cleanPath(cmdCfg.DataDir)
	configFile := filepath.Join(cfg.DataDir, defaultConfigFilename)
	explicitFile := cmdCfg.ConfigFile != ""
	if explicitFile {
		configFile = cleanPath(cmdCfg.ConfigFile)
	}

	parser := flags.NewParser(&cfg, flags.PassDoubleDash)
	if err := flags.NewIniParser(parser).ParseFile(configFile); err != nil {
		var pe *os.PathError
		if !errors.As(err, &pe) || explicitFile {
			return nil, fmt.Errorf("config file %s: %w", configFile, err)
		}
	}

	// Repeatable options set on the command line replace the file's
	// values rather than adding to them.
	resetSetSlices(reflect.ValueOf(&cfg).Elem(), "", setOptions(cmdParser))
	if _, err := parser.ParseArgs(args); err != nil {
		return nil, err
	}
	cfg.DataDir = cleanPath(cmdCfg.DataDir)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// setOptions names every long option the parser saw set.
func setOptions(p *flags.Parser) map[string]bool {
	set := make(map[string]bool)
	var walk func(g *flags.Group)
	walk = func(g *flags.Group) {
		for _, o := range g.Options() {
			if o.IsSet() && !o.IsSetDefault() {
				set[o.LongNameWithNamespace()] = true
			}
		}
		for _, sub := range g.Groups() {
			walk(sub)
		}
	}
	walk(p.Group)
	return set
}

// resetSetSlices empties every slice field whose long option is in set.
func resetSetSlices(v reflect.Value, namespace string, set map[string]bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if ns, ok := f.Tag.Lookup("namespace"); ok && f.Type.Kind() == reflect.Struct {
			resetSetSlices(v.Field(i), namespace+ns+".", set)
			continue
		}
		long := f.Tag.Get("long")
		if long != "" && f.Type.Kind() == reflect.Slice && set[namespace+long] {
			v.Field(i).Set(reflect.Zero(f.Type))
		}
	}
}

func (c *config) validate() error {
	network, err := netparams.ByName(c.Network)
	if err != nil {
		return fmt.Errorf("--network: %w", err)
	}
	c.network = network
	c.Network = network.Name

	if c.ConfigFile != "" {
		c.ConfigFile = cleanPath(c.ConfigFile)
	}
	if c.LogDir == "" {
		c.LogDir = filepath.Join(c.DataDir, "logs")
	}
	c.LogDir = cleanPath(c.LogDir)
	if c.TLSCertPath == "" {
		c.TLSCertPath = filepath.Join(c.DataDir, "tls.cert")
	}
	if c.TLSKeyPath == "" {
		c.TLSKeyPath = filepath.Join(c.DataDir, "tls.key")
	}
	c.TLSCertPath = cleanPath(c.TLSCertPath)
	c.TLSKeyPath = cleanPath(c.TLSKeyPath)
	if c.WalletPasswordFile != "" {
		c.WalletPasswordFile = cleanPath(c.WalletPasswordFile)
	}

	if c.MaxLogFiles < 0 {
		return fmt.Errorf("--maxlogfiles: %d is negative (allowed: 0 or more)", c.MaxLogFiles)
	}
	if c.MaxLogFileSize < 1 {
		return fmt.Errorf("--maxlogfilesize: %d (allowed: 1 MB or more)", c.MaxLogFileSize)
	}
	if c.TrickleDelay <= 0 {
		return fmt.Errorf("--trickledelay: %d ms (allowed: 1 or more)", c.TrickleDelay)
	}
	if err := validateAnnounceTimeouts(c.ChanEnableTimeout, c.ChanDisableTimeout,
		c.ChanStatusSampleInterval); err != nil {
		return err
	}
	if c.MaxInbound < 0 {
		return fmt.Errorf("--maxinboundpeers: %d is negative (allowed: 0 or more)", c.MaxInbound)
	}
	if err := logging.New(discard{}, 0).SetLevels(c.DebugLevel); err != nil {
		return fmt.Errorf("--debuglevel: %w", err)
	}

	if len(c.Alias) > maxAliasLen || !utf8.ValidString(c.Alias) {
		return fmt.Errorf("--alias: %q is not valid UTF-8 of at most %d bytes",
			c.Alias, maxAliasLen)
	}
	if !colorPattern.MatchString(c.Color) {
		return fmt.Errorf("--color: %q (allowed: #RRGGBB in hex)", c.Color)
	}

	if c.NoListen && len(c.Listeners) > 0 {
		return errors.New("--nolisten and --listen: choose one")
	}
	if !c.NoListen && len(c.Listeners) == 0 {
		c.Listeners = []string{fmt.Sprintf("0.0.0.0:%d", defaultPeerPort)}
	}
	if len(c.RPCListeners) == 0 {
		c.RPCListeners = []string{fmt.Sprintf("127.0.0.1:%d", defaultRPCPort)}
	}
	if len(c.RESTListeners) == 0 && !c.NoREST {
		c.RESTListeners = []string{fmt.Sprintf("127.0.0.1:%d", defaultRESTPort)}
	}
	for _, l := range []struct {
		name  string
		addrs []string
		port  int
	}{
		{"--listen", c.Listeners, defaultPeerPort},
		{"--rpclisten", c.RPCListeners, defaultRPCPort},
		{"--restlisten", c.RESTListeners, defaultRESTPort},
		{"--externalip", c.ExternalIPs, defaultPeerPort},
	} {
		for i, a := range l.addrs {
			norm, err := normalizeAddr(a, l.port)
			if err != nil {
				return fmt.Errorf("%s: %w", l.name, err)
			}
			l.addrs[i] = norm
		}
	}
	for _, ip := range c.TLSExtraIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("--tlsextraip: %q is not an IP address", ip)
		}
	}

	if c.Btcd.RPCHost == "" {
		c.Btcd.RPCHost = "localhost:" + btcdRPCPort(c.network.Name)
	}
	if _, err := normalizeAddr(c.Btcd.RPCHost, 0); err != nil {
		return fmt.Errorf("--btcd.rpchost: %w", err)
	}
	c.Btcd.RPCCert = cleanPath(c.Btcd.RPCCert)

	if c.Tor.V3 && !c.Tor.Active {
		return errors.New("--tor.v3 needs --tor.active")
	}
	if c.Tor.Active {
		for name, a := range map[string]string{"--tor.socks": c.Tor.SOCKS, "--tor.control": c.Tor.Control} {
			if _, err := normalizeAddr(a, 0); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	for _, b := range c.Dev.RequireFeatures {
		if b >= 1024 {
			return fmt.Errorf("--dev.requirefeature: bit %d (allowed: below 1024)", b)
		}
	}
	if err := c.validateDB(); err != nil {
		return err
	}
	if c.Tor.PrivateKeyPath == "" {
		c.Tor.PrivateKeyPath = filepath.Join(c.DataDir, "v3_onion_private_key")
	}
	c.Tor.PrivateKeyPath = cleanPath(c.Tor.PrivateKeyPath)
	return nil
}

// btcdRPCPort is btcd's default RPC port on each network.
func btcdRPCPort(network string) string {
	switch network {
	case "mainnet":
		return "8334"
	case "testnet", "regtest":
		return "18334"
	case "testnet4":
		return "48334"
	case "signet":
		return "38332"
	default:
		return "18556"
	}
}

// normalizeAddr checks host:port and adds defaultPort when the port is
// missing (0: a port is required).
func normalizeAddr(addr string, defaultPort int) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if defaultPort == 0 {
			return "", fmt.Errorf("%q is not host:port", addr)
		}
		host, port = strings.Trim(addr, "[]"), strconv.Itoa(defaultPort)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("%q: port must be 1 to 65535", addr)
	}
	if host != "" && !validHost(host) {
		return "", fmt.Errorf("%q: %q is neither an IP address nor a host name", addr, host)
	}
	return net.JoinHostPort(host, port), nil
}

// validHost accepts an IP address or a DNS name (RFC 1123 labels).
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	// What looks like an IP address must be one: "256.1.1.1" is not a
	// name either.
	if strings.Trim(host, "0123456789.") == "" || strings.Contains(host, ":") {
		return false
	}
	if len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if len(label) == 0 || len(label) > 63 ||
			label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
				c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// cleanPath expands a leading ~ and environment variables.
func cleanPath(path string) string {
	if path == "" {
		return ""
	}
	if strings.HasPrefix(path, "~") {
		home, err := os.UserHomeDir()
		if err != nil {
			if u, uerr := user.Current(); uerr == nil {
				home = u.HomeDir
			}
		}
		path = home + path[1:]
	}
	return filepath.Clean(os.ExpandEnv(path))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
