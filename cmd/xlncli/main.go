// Command xlncli controls a running xlnd over its gRPC API. Its command
// names, flags and JSON output follow lnd's lncli, so scripts written for
// lncli work with it, and lncli itself works against xlnd too.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	flags "github.com/jessevdk/go-flags"
	"golang.org/x/term"
)

// globalOptions are lncli's connection options.
type globalOptions struct {
	RPCServer       string `long:"rpcserver" default:"localhost:10009" description:"host:port of xlnd's gRPC interface"`
	LndDir          string `long:"lnddir" description:"xlnd's data dir (lncli's name for it); default ~/.xlnd"`
	XlndDir         string `long:"xlnddir" description:"xlnd's data dir; default ~/.xlnd"`
	TLSCertPath     string `long:"tlscertpath" description:"path to tls.cert; default <datadir>/tls.cert"`
	Chain           string `long:"chain" short:"c" default:"bitcoin" description:"the chain (only bitcoin)"`
	Network         string `long:"network" short:"n" default:"mainnet" description:"the network xlnd runs on (mainnet, testnet, testnet4, signet, regtest, simnet); picks the macaroon"`
	NoMacaroons     bool   `long:"no-macaroons" description:"send no macaroon"`
	MacaroonPath    string `long:"macaroonpath" description:"path to the macaroon; default <datadir>/data/chain/bitcoin/<network>/admin.macaroon"`
	MacaroonTimeout int64  `long:"macaroontimeout" default:"60" description:"seconds the sent macaroon stays valid (time-before caveat)"`
	MacaroonIP      string `long:"macaroonip" description:"lock the sent macaroon to this client IP (ipaddr caveat)"`
}

// app holds the options and the process's terminal streams, so tests can
// drive commands without a terminal.
type app struct {
	opts globalOptions
	ctx  context.Context

	in  io.Reader
	out io.Writer
	err io.Writer

	// stdinFd and stdoutFd are checked for terminals (-1: never).
	stdinFd  int
	stdoutFd int

	// home is the user's home directory for the default data dir.
	home string

	lineReader *lineReader
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	home, _ := os.UserHomeDir()
	a := &app{
		ctx: ctx, in: os.Stdin, out: os.Stdout, err: os.Stderr,
		stdinFd: int(os.Stdin.Fd()), stdoutFd: int(os.Stdout.Fd()), home: home,
	}
	os.Exit(a.run(os.Args[1:]))
}

// run parses args and executes one command; it returns the exit code.
func (a *app) run(args []string) int {
	p := a.parser()
	_, err := p.ParseArgs(args)
	if err == nil {
		return 0
	}
	var ferr *flags.Error
	if errors.As(err, &ferr) && ferr.Type == flags.ErrHelp {
		fmt.Fprintln(a.out, ferr.Message)
		return 0
	}
	if errors.As(err, &ferr) && ferr.Type == flags.ErrCommandRequired {
		p.WriteHelp(a.err)
		return 1
	}
	fmt.Fprintf(a.err, "[xlncli] %v\n", err)
	return 1
}

func (a *app) parser() *flags.Parser {
	p := flags.NewParser(&a.opts, flags.HelpFlag|flags.PassDoubleDash)
	p.Name = "xlncli"
	p.LongDescription = "xlncli controls xlnd through its gRPC API, with lncli's commands, flags and JSON output."
	for _, c := range a.commands() {
		cmd, err := p.AddCommand(c.name, c.short, c.long, c.data)
		if err != nil {
			panic(err) // a programming error in the tables below
		}
		cmd.ArgsRequired = false
	}
	return p
}

type command struct {
	name, short, long string
	data              any
}

// dataDir is the data dir from --lnddir/--xlnddir or the default.
func (a *app) dataDir() string {
	dir := a.opts.XlndDir
	if dir == "" {
		dir = a.opts.LndDir
	}
	if dir == "" {
		dir = filepath.Join(a.home, ".xlnd")
	}
	return expandPath(dir, a.home)
}

// expandPath replaces a leading ~ with home.
func expandPath(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return filepath.Clean(p)
}

func (a *app) isTerminal(fd int) bool {
	return fd >= 0 && term.IsTerminal(fd)
}
