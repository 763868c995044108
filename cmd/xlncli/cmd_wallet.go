package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"lnd.xprv/rpc/lnrpc"
)

const minPasswordLen = 8

// createCmd creates the wallet: interactively (password twice, new or
// existing 24 words, the new words shown once and confirmed), or for
// scripts with --password_file (and --mnemonic_file to restore), in which
// case a new seed is printed as JSON and nothing is asked.
type createCmd struct {
	a              *app
	PasswordFile   string `long:"password_file" description:"read the wallet password from this file (non-interactive)"`
	MnemonicFile   string `long:"mnemonic_file" description:"restore from the 24 words in this file instead of a new seed"`
	PassphraseFile string `long:"passphrase_file" description:"read the optional seed passphrase from this file"`
	RecoveryWindow int32  `long:"recovery_window" description:"address look-ahead when restoring (default: the daemon's)"`
	StatelessInit  bool   `long:"stateless_init" description:"write no macaroon files; print the admin macaroon instead"`
}

func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(b, "\r\n"), nil
}

// seedWarning says what the words are, printed with every new seed.
const seedWarning = "These 24 words are the only backup of this wallet. Write them down on paper and keep them " +
	"safe and secret: without them the funds cannot be recovered if this machine is lost, and anyone " +
	"who sees them can take the funds."

// noTerminalHint replaces "unexpected end of input" when create's prompts
// find no answer, as when run from a script.
const noTerminalHint = "create asks for the password and shows the seed interactively, and its input ended. " +
	"Run it in a terminal, or from a script: xlncli create --password_file FILE " +
	"(prints the new seed once as JSON), with --mnemonic_file FILE to restore from 24 words " +
	"and --passphrase_file FILE for a seed passphrase"

func (c *createCmd) Execute(args []string) error {
	err := c.execute(args)
	if errors.Is(err, errEndOfInput) && c.PasswordFile == "" {
		return errors.New(noTerminalHint)
	}
	return err
}

func (c *createCmd) execute(args []string) error {
	a := c.a
	if len(args) != 0 {
		return fmt.Errorf("create takes no arguments, got %q", args)
	}
	// Ask nothing if there is nothing to create.
	conn, err := a.dial(false)
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := lnrpc.NewStateClient(conn).GetState(a.ctx, &lnrpc.GetStateRequest{})
	if err != nil {
		return err
	}
	if st.State != lnrpc.WalletState_NON_EXISTING {
		return fmt.Errorf("wallet already exists (state %v); use unlock", st.State)
	}
	client := lnrpc.NewWalletUnlockerClient(conn)

	var (
		password, passphrase []byte
		words                []string
	)
	interactive := c.PasswordFile == ""
	if !interactive {
		if password, err = readSecretFile(c.PasswordFile); err != nil {
			return err
		}
		if len(password) < minPasswordLen {
			return fmt.Errorf("the password in %s must have at least %d characters", c.PasswordFile, minPasswordLen)
		}
	} else if password, err = a.newPassword("Input wallet password: ", "Confirm password: "); err != nil {
		return err
	}
	if c.PassphraseFile != "" {
		if passphrase, err = readSecretFile(c.PassphraseFile); err != nil {
			return err
		}
	}

	restore := c.MnemonicFile != ""
	if restore {
		b, err := os.ReadFile(c.MnemonicFile)
		if err != nil {
			return err
		}
		words = strings.Fields(string(b))
	} else if interactive {
		ans, err := a.confirm("\nDo you have an existing cipher seed mnemonic you want to use? (Enter y/n): ")
		if err != nil {
			return err
		}
		if ans {
			restore = true
			line, err := a.prompt("Input your 24-word mnemonic separated by spaces: ")
			if err != nil {
				return err
			}
			words = strings.Fields(line)
		}
	}
	if restore && len(words) != 24 {
		return fmt.Errorf("wrong cipher seed mnemonic length: got %d words, expecting 24 words", len(words))
	}
	if interactive && c.PassphraseFile == "" {
		fmt.Fprintln(a.out, "\nYour cipher seed can optionally be encrypted.")
		passphrase, err = a.readPassword("Input your passphrase if you wish to encrypt it (or press enter to proceed without a cipher seed passphrase): ")
		if err != nil {
			return err
		}
	}

	if !restore {
		seed, err := client.GenSeed(a.ctx, &lnrpc.GenSeedRequest{AezeedPassphrase: passphrase})
		if err != nil {
			return err
		}
		words = seed.CipherSeedMnemonic
		if interactive {
			a.showSeed(words)
			ok, err := a.confirm("Have you written down the 24 words? The wallet is only created once you confirm (yes/no): ")
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("wallet not created: write down the seed and run create again")
			}
		} else {
			// The warning goes to stderr so that stdout stays the
			// JSON scripts parse.
			fmt.Fprintf(a.err, "!!! %s !!!\n", seedWarning)
			if err := a.printJSON(map[string][]string{"cipher_seed_mnemonic": words}); err != nil {
				return err
			}
		}
	}
	resp, err := client.InitWallet(a.ctx, &lnrpc.InitWalletRequest{
		WalletPassword:     password,
		CipherSeedMnemonic: words,
		AezeedPassphrase:   passphrase,
		RecoveryWindow:     c.RecoveryWindow,
		StatelessInit:      c.StatelessInit,
	})
	if err != nil {
		return err
	}
	if c.StatelessInit {
		fmt.Fprintf(a.out, "Admin macaroon: %x\n", resp.AdminMacaroon)
	}
	if interactive {
		fmt.Fprintln(a.out, "\nxlnd successfully initialized!")
	}
	return nil
}

// showSeed prints the words once, numbered, as lncli does.
func (a *app) showSeed(words []string) {
	fmt.Fprintln(a.out, "\n!!!YOU MUST WRITE DOWN THIS SEED TO BE ABLE TO RESTORE THE WALLET!!!")
	fmt.Fprintln(a.out)
	fmt.Fprintln(a.out, seedWarning)
	fmt.Fprintln(a.out)
	fmt.Fprintln(a.out, "---------------BEGIN XLND CIPHER SEED---------------")
	for i := 0; i < len(words); i += 4 {
		for j := i; j < i+4 && j < len(words); j++ {
			fmt.Fprintf(a.out, "%2d. %-10s", j+1, words[j])
		}
		fmt.Fprintln(a.out)
	}
	fmt.Fprintln(a.out, "---------------END XLND CIPHER SEED-----------------")
	fmt.Fprintln(a.out, "\n!!!YOU MUST WRITE DOWN THIS SEED TO BE ABLE TO RESTORE THE WALLET!!!")
	fmt.Fprintln(a.out)
}

// newPassword asks for a new password twice.
func (a *app) newPassword(msg, again string) ([]byte, error) {
	for range 3 {
		pw, err := a.readPassword(msg)
		if err != nil {
			return nil, err
		}
		if len(pw) < minPasswordLen {
			fmt.Fprintf(a.out, "password must have at least %d characters\n\n", minPasswordLen)
			continue
		}
		pw2, err := a.readPassword(again)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pw, pw2) {
			fmt.Fprintln(a.out, "Passwords don't match, please try again")
			fmt.Fprintln(a.out)
			continue
		}
		return pw, nil
	}
	return nil, errors.New("no valid password given")
}

// unlockCmd unlocks the wallet: lncli unlock [--stdin].
type unlockCmd struct {
	a              *app
	RecoveryWindow int32 `long:"recovery_window" description:"address look-ahead when restoring"`
	Stdin          bool  `long:"stdin" description:"read the password from the first line of standard input"`
	StatelessInit  bool  `long:"stateless_init" description:"write no macaroon files"`
}

func (c *unlockCmd) Execute(args []string) error {
	a := c.a
	if len(args) != 0 {
		return fmt.Errorf("unlock takes no arguments, got %q", args)
	}
	var pw []byte
	var err error
	if c.Stdin {
		var s string
		s, err = a.lines().readLine()
		pw = []byte(s)
	} else {
		pw, err = a.readPassword("Input wallet password: ")
	}
	if err != nil {
		return err
	}
	return a.unlocker(func(client lnrpc.WalletUnlockerClient) error {
		_, err := client.UnlockWallet(a.ctx, &lnrpc.UnlockWalletRequest{
			WalletPassword: pw, RecoveryWindow: c.RecoveryWindow, StatelessInit: c.StatelessInit,
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(a.out, "\nxlnd successfully unlocked!")
		return nil
	})
}

// changePasswordCmd changes the wallet password.
type changePasswordCmd struct {
	a             *app
	NewMacRootKey bool `long:"new_mac_root_key" description:"replace the macaroon root key, invalidating every macaroon"`
	StatelessInit bool `long:"stateless_init" description:"write no macaroon files; print the admin macaroon instead"`
	Stdin         bool `long:"stdin" description:"read the current and new password from two lines of standard input"`
}

func (c *changePasswordCmd) Execute(args []string) error {
	a := c.a
	if len(args) != 0 {
		return fmt.Errorf("changepassword takes no arguments, got %q", args)
	}
	var cur, next []byte
	if c.Stdin {
		l1, err := a.lines().readLine()
		if err != nil {
			return err
		}
		l2, err := a.lines().readLine()
		if err != nil {
			return err
		}
		cur, next = []byte(l1), []byte(l2)
	} else {
		var err error
		if cur, err = a.readPassword("Input current wallet password: "); err != nil {
			return err
		}
		if next, err = a.newPassword("Input new wallet password: ", "Confirm new wallet password: "); err != nil {
			return err
		}
	}
	return a.unlocker(func(client lnrpc.WalletUnlockerClient) error {
		resp, err := client.ChangePassword(a.ctx, &lnrpc.ChangePasswordRequest{
			CurrentPassword: cur, NewPassword: next,
			StatelessInit: c.StatelessInit, NewMacaroonRootKey: c.NewMacRootKey,
		})
		if err != nil {
			return err
		}
		if c.StatelessInit {
			fmt.Fprintf(a.out, "Admin macaroon: %x\n", resp.AdminMacaroon)
		}
		fmt.Fprintln(a.out, "\nxlnd successfully changed the password and unlocked!")
		return nil
	})
}

// stateCmd prints the start-up state.
type stateCmd struct{ a *app }

func (c *stateCmd) Execute([]string) error {
	a := c.a
	conn, err := a.dial(false)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := lnrpc.NewStateClient(conn).GetState(a.ctx, &lnrpc.GetStateRequest{})
	if err != nil {
		return err
	}
	return a.printRespJSON(resp)
}
