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

	"lnd.xprv/rpc"
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
	Version         bool   `long:"version" short:"v" description:"print the version"`
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
	_, err := p.ParseArgs(relativeTimes(args))
	if a.opts.Version {
		fmt.Fprintf(a.out, "xlncli version %s\n", rpc.DefaultVersion)
		return 0
	}
	if err == nil {
		return 0
	}
	var ferr *flags.Error
	if errors.As(err, &ferr) {
		switch ferr.Type {
		case flags.ErrHelp:
			fmt.Fprintln(a.out, ferr.Message)
			return 0
		case flags.ErrCommandRequired:
			p.WriteHelp(a.err)
			return 1
		case flags.ErrUnknownCommand:
			fmt.Fprintf(a.err, "[xlncli] %v\n", unknownCommand(ferr.Message))
			return 1
		}
	}
	fmt.Fprintf(a.err, "[xlncli] %v\n", err)
	return 1
}

// unknownCommand rewrites go-flags' unknown-command message: a command
// lncli has is one this release does not have yet, not a typo.
func unknownCommand(msg string) string {
	const prefix = "Unknown command `"
	name := ""
	if strings.HasPrefix(msg, prefix) {
		name, _, _ = strings.Cut(msg[len(prefix):], "'")
	}
	if name != "" && isLncliCommand(name) {
		return fmt.Sprintf("%s is an lncli command that this release of xlncli does not have yet "+
			"(xlncli --help lists the commands it has)", name)
	}
	return msg
}

func (a *app) parser() *flags.Parser {
	p := flags.NewParser(&a.opts, flags.HelpFlag|flags.PassDoubleDash)
	p.Name = "xlncli"
	p.LongDescription = "xlncli controls xlnd through its gRPC API, with lncli's commands, flags and JSON output."
	// -v prints the version and runs nothing else, as lncli's.
	p.CommandHandler = func(cmd flags.Commander, args []string) error {
		if a.opts.Version || cmd == nil {
			return nil
		}
		return cmd.Execute(args)
	}
	cmds := append(a.commands(), command{"help", "Shows a list of commands or help for one command: help [<command>].", "", &helpCmd{a: a}})
	for _, c := range cmds {
		cmd, err := p.AddCommand(c.name, c.short, c.long, c.data)
		if err != nil {
			panic(err) // a programming error in the tables below
		}
		cmd.ArgsRequired = false
		if c.name == "help" {
			cmd.Aliases = []string{"h"}
		}
	}
	return p
}

// helpCmd is lncli's help command: help lists the commands, help <command>
// shows that command's help.
type helpCmd struct{ a *app }

func (c *helpCmd) Usage() string { return "[<command>]" }

func (c *helpCmd) Execute(args []string) error {
	p := c.a.parser()
	if len(args) == 0 {
		p.WriteHelp(c.a.out)
		return nil
	}
	if len(args) > 1 {
		return fmt.Errorf("help takes at most one command, got %q", args)
	}
	if p.Find(args[0]) == nil {
		if isLncliCommand(args[0]) {
			return errors.New(unknownCommand("Unknown command `" + args[0] + "'"))
		}
		return fmt.Errorf("unknown command %q (xlncli --help lists the commands)", args[0])
	}
	_, err := p.ParseArgs([]string{args[0], "--help"})
	var ferr *flags.Error
	if errors.As(err, &ferr) && ferr.Type == flags.ErrHelp {
		fmt.Fprintln(c.a.out, ferr.Message)
		return nil
	}
	return err
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
