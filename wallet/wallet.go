package wallet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"

	"lnd.xprv/chain"
)

// Chain is what the wallet uses of the chain backend. chain.Backend
// satisfies it.
type Chain interface {
	RegisterBlockEpochs() (*chain.BlockEpochs, error)
	BestBlock(ctx context.Context) (chainhash.Hash, int32, error)
	BlockHash(ctx context.Context, height int32) (chainhash.Hash, error)
	Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error)
	Broadcast(ctx context.Context, tx *wire.MsgTx) error
	EstimateFeePerKW(ctx context.Context, confTarget uint32) (chain.SatPerKWeight, error)
	RelayFeePerKW() chain.SatPerKWeight
	WatchMempool(pkScripts [][]byte, outpoints []wire.OutPoint) error
	RelevantTxs() <-chan *wire.MsgTx
	RawTx(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, error)
	UnspentOutput(ctx context.Context, op wire.OutPoint, includeMempool bool) (*wire.TxOut, error)
}

var _ Chain = chain.Backend(nil)

// DefaultGapLimit is how many unused addresses past the last used one are
// watched on each branch, as BIP 44 recommends.
const DefaultGapLimit = 20

// DefaultConfTarget is the confirmation target used when a send gives
// neither a fee rate nor a target.
const DefaultConfTarget = 6

// Config configures a wallet.
type Config struct {
	// DBPath is the bbolt file, normally <datadir>/wallet.db.
	DBPath string

	// DB, when set, is the wallet's database instead of the file at
	// DBPath (an etcd namespace, so that a standby node holds the
	// wallet too). The caller owns it: Stop does not close it.
	DB kvdb.Backend

	// Net is the network; it picks the coin type and address encoding.
	Net *chaincfg.Params

	// Chain is the chain backend. Needed by Start and by sends.
	Chain Chain

	// Logger receives the wallet's logs; nil discards them.
	Logger *slog.Logger

	// GapLimit overrides DefaultGapLimit.
	GapLimit uint32

	// Scrypt overrides DefaultScryptParams when a seed is sealed (Create,
	// ChangePassword). Tests use cheap parameters.
	Scrypt ScryptParams

	// Now overrides time.Now (leases, timestamps).
	Now func() time.Time

	// MempoolGrace overrides DefaultMempoolGrace: how long an unconfirmed
	// transaction may be missing from the backend before its inputs are
	// checked for a double spend.
	MempoolGrace time.Duration

	// DropAfter overrides DefaultDropAfter: how long a transaction may be
	// missing from the backend, though still valid, before it is given up
	// as failed.
	DropAfter time.Duration
}

// DefaultMempoolGrace is Config.MempoolGrace's default: about a block.
const DefaultMempoolGrace = 10 * time.Minute

// DefaultDropAfter is Config.DropAfter's default: Bitcoin Core's mempool
// expiry (336 hours); a transaction no mempool keeps that long is gone.
const DefaultDropAfter = 14 * 24 * time.Hour

// CreateParams describes a new wallet.
type CreateParams struct {
	// Password protects the seed. Empty is refused unless NoPassword.
	Password []byte

	// NoPassword creates a wallet sealed with a fixed, public password,
	// for tests and --noseedbackup. Unlock such a wallet with an empty
	// password. Never for real funds.
	NoPassword bool

	// Mnemonic is the BIP 39 mnemonic to use; empty generates 24 new
	// words (returned by Create).
	Mnemonic string

	// Passphrase is the optional BIP 39 passphrase.
	Passphrase string

	// Restore says Mnemonic is an existing seed: the first Start rescans
	// the chain from BirthdayHeight (0: from the genesis block) to find
	// its coins. A new wallet instead starts at the chain tip.
	Restore        bool
	BirthdayHeight int32
}

// Wallet is an HD wallet over one BIP 39 seed. Create or Open it, Unlock
// it, then Start it to follow the chain. Methods are safe for concurrent
// use.
type Wallet struct {
	cfg Config
	log *slog.Logger
	db  kvdb.Backend
	// closeDB closes db if the wallet opened it.
	closeDB func() error
	now     func() time.Time

	// mu serializes every change of wallet state: database writes that
	// depend on earlier reads (coin selection and recording a spend,
	// scanning a block) and the in-memory script index.
	mu       sync.Mutex
	keys     *keyRing
	insecure bool
	scripts  map[string]derivation
	derived  map[[2]uint8]uint32     // scripts derived per (type, branch)
	pubKeys  map[[33]byte]KeyLocator // Lightning keys handed out
	tipTime  time.Time               // of the scanned tip; zero if not known yet

	lifeMu  sync.Mutex // Start and Stop
	running bool
	stopped bool
	started chan struct{} // closed by Start
	quit    chan struct{}
	wg      sync.WaitGroup
	synced  chan struct{} // signalled after each completed sync pass

	// beforeBroadcast, when set (by tests), runs between recording a
	// send and broadcasting it; an error stands for a crash there.
	beforeBroadcast func(*wire.MsgTx) error
}

// Exists reports whether cfg's database holds a wallet. Call it before
// Open: a bbolt file is locked while a wallet has it open.
func Exists(cfg Config) (bool, error) {
	if cfg.DB == nil {
		if _, err := os.Stat(cfg.DBPath); errors.Is(err, os.ErrNotExist) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	db, closeDB, err := openStore(cfg)
	if err != nil {
		return false, err
	}
	defer closeDB()
	found := false
	err = db.View(func(tx kvdb.RTx) error {
		if b := tx.ReadBucket(bucketMeta); b != nil && b.Get(keySeed) != nil {
			found = true
		}
		return nil
	})
	return found, err
}

func newWallet(cfg Config, db kvdb.Backend, closeDB func() error) *Wallet {
	if cfg.GapLimit == 0 {
		cfg.GapLimit = DefaultGapLimit
	}
	if cfg.Scrypt == (ScryptParams{}) {
		cfg.Scrypt = DefaultScryptParams
	}
	if cfg.MempoolGrace <= 0 {
		cfg.MempoolGrace = DefaultMempoolGrace
	}
	if cfg.DropAfter <= 0 {
		cfg.DropAfter = DefaultDropAfter
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Wallet{
		cfg:     cfg,
		log:     log,
		db:      db,
		closeDB: closeDB,
		now:     now,
		scripts: make(map[string]derivation),
		derived: make(map[[2]uint8]uint32),
		pubKeys: make(map[[33]byte]KeyLocator),
		started: make(chan struct{}),
		quit:    make(chan struct{}),
		synced:  make(chan struct{}, 1),
	}
}

// Create makes a new wallet in cfg.DBPath and returns it unlocked (not
// started), with its mnemonic: the one given, or 24 new words that the
// caller must show the operator once.
func Create(cfg Config, p CreateParams) (*Wallet, string, error) {
	if cfg.Net == nil {
		return nil, "", errors.New("wallet: no network")
	}
	password := p.Password
	switch {
	case p.NoPassword && len(password) > 0:
		return nil, "", errors.New("wallet: NoPassword with a password")
	case p.NoPassword:
		password = insecurePassword
	case len(password) == 0:
		return nil, "", errors.New("wallet: empty password (use NoPassword for a dev wallet)")
	}
	if p.Restore && p.Mnemonic == "" {
		return nil, "", fmt.Errorf("%w: restore needs a mnemonic", ErrInvalidMnemonic)
	}
	if p.BirthdayHeight < 0 {
		return nil, "", errors.New("wallet: negative birthday height")
	}
	mnemonic := p.Mnemonic
	if mnemonic == "" {
		var err error
		if mnemonic, err = NewMnemonic(); err != nil {
			return nil, "", err
		}
	}
	mnemonic, err := normalizeMnemonic(mnemonic)
	if err != nil {
		return nil, "", err
	}
	seed, err := seedFromMnemonic(mnemonic, p.Passphrase)
	if err != nil {
		return nil, "", err
	}
	defer zero(seed)

	if cfg.DB == nil {
		if err := os.MkdirAll(filepath.Dir(cfg.DBPath), 0o700); err != nil {
			return nil, "", err
		}
	}
	db, closeDB, err := openStore(cfg)
	if err != nil {
		return nil, "", err
	}
	w := newWallet(cfg, db, closeDB)
	sealed, err := sealSeed(seed, password, w.cfg.Scrypt)
	if err != nil {
		closeDB()
		return nil, "", err
	}
	birthday := int32(-1) // a new wallet starts at the tip
	if p.Restore {
		birthday = p.BirthdayHeight
	}
	err = db.Update(func(tx kvdb.RwTx) error {
		if b := tx.ReadWriteBucket(bucketMeta); b != nil && b.Get(keySeed) != nil {
			return ErrWalletExists
		}
		if err := createBuckets(tx); err != nil {
			return err
		}
		m := tx.ReadWriteBucket(bucketMeta)
		if err := m.Put(keyVersion, u32(dbVersion)); err != nil {
			return err
		}
		if err := m.Put(keyNet, []byte(cfg.Net.Name)); err != nil {
			return err
		}
		if err := m.Put(keySeed, sealed); err != nil {
			return err
		}
		if p.NoPassword {
			if err := m.Put(keyInsecure, []byte{1}); err != nil {
				return err
			}
		}
		if err := m.Put(keyBirthday, u32(uint32(birthday))); err != nil {
			return err
		}
		return m.Put(keyCreated, u32(uint32(w.now().Unix())))
	})
	if err != nil {
		closeDB()
		return nil, "", err
	}
	w.insecure = p.NoPassword
	if err := w.unlockSeed(seed); err != nil {
		closeDB()
		return nil, "", err
	}
	w.log.Info("wallet created", "net", cfg.Net.Name, "restore", p.Restore,
		"birthday", birthday, "insecure", p.NoPassword)
	return w, mnemonic, nil
}

// Open opens the wallet in cfg.DBPath, locked.
func Open(cfg Config) (*Wallet, error) {
	if cfg.Net == nil {
		return nil, errors.New("wallet: no network")
	}
	if cfg.DB == nil {
		if _, err := os.Stat(cfg.DBPath); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, ErrNoWallet
			}
			return nil, err
		}
	}
	db, closeDB, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	w := newWallet(cfg, db, closeDB)
	err = db.Update(func(tx kvdb.RwTx) error {
		m := tx.ReadWriteBucket(bucketMeta)
		if m == nil || m.Get(keySeed) == nil {
			return ErrNoWallet
		}
		v, _ := getInt32(m, keyVersion)
		if v == 1 {
			if err := migrateV1(tx); err != nil {
				return fmt.Errorf("migrate wallet database to version %d: %w",
					dbVersion, err)
			}
			v = dbVersion
		}
		if v != dbVersion {
			return fmt.Errorf("%w: schema version %d, this build knows %d",
				ErrCorruptDB, v, dbVersion)
		}
		if net := string(m.Get(keyNet)); net != cfg.Net.Name {
			return fmt.Errorf("%w: wallet is for %q, node runs %q",
				ErrWrongNetwork, net, cfg.Net.Name)
		}
		w.insecure = len(m.Get(keyInsecure)) == 1
		return nil
	})
	if err != nil {
		closeDB()
		return nil, err
	}
	return w, nil
}

// Insecure reports whether the wallet was created without a password.
func (w *Wallet) Insecure() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.insecure
}

// Unlock decrypts the seed with password. ErrWrongPassword if it does
// not open it. Unlocking an unlocked wallet checks the password again.
// While a password change is unfinished (FinishPasswordChange) it is
// ErrPasswordChangePending.
func (w *Wallet) Unlock(password []byte) error {
	var sealed []byte
	var pending bool
	err := w.db.View(func(tx kvdb.RTx) error {
		m := tx.ReadBucket(bucketMeta)
		sealed = append([]byte(nil), m.Get(keySeed)...)
		pending = m.Get(keyPasswordChange) != nil
		return nil
	})
	if err != nil {
		return err
	}
	if pending {
		return ErrPasswordChangePending
	}
	w.mu.Lock()
	insecure := w.insecure
	w.mu.Unlock()
	seed, err := openSeed(sealed, passwordOrDefault(password, insecure))
	if err != nil {
		return err
	}
	defer zero(seed)
	w.mu.Lock()
	unlocked := w.keys != nil
	w.mu.Unlock()
	if unlocked {
		return nil
	}
	return w.unlockSeed(seed)
}

// unlockSeed builds the key ring and loads the script index.
func (w *Wallet) unlockSeed(seed []byte) error {
	keys, err := newKeyRing(seed, w.cfg.Net)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keys != nil {
		keys.lock() // a concurrent Unlock won
		return nil
	}
	w.keys = keys
	err = w.updateIndexed(func(tx kvdb.RwTx) error {
		err := tx.ReadWriteBucket(bucketScripts).ForEach(func(k, v []byte) error {
			d, err := decodeDeriv(v)
			if err != nil {
				return err
			}
			w.scripts[string(k)] = d
			id := [2]uint8{uint8(d.Type), d.Branch}
			if d.Index+1 > w.derived[id] {
				w.derived[id] = d.Index + 1
			}
			return nil
		})
		if err != nil {
			return err
		}
		_, err = w.extendHorizon(tx)
		return err
	})
	if err != nil {
		w.keys = nil
		keys.lock()
		return err
	}
	return nil
}

// Start follows the chain: it catches up from the last block scanned (or
// rescans from the birthday of a restored wallet), rebroadcasts its own
// unconfirmed transactions, and then tracks new blocks and the mempool.
// The wallet must be unlocked.
func (w *Wallet) Start() error {
	if w.cfg.Chain == nil {
		return errors.New("wallet: no chain backend")
	}
	w.lifeMu.Lock()
	defer w.lifeMu.Unlock()
	switch {
	case w.stopped:
		return ErrShuttingDown
	case w.running:
		return nil
	}
	w.mu.Lock()
	locked := w.keys == nil
	w.mu.Unlock()
	if locked {
		return ErrLocked
	}
	epochs, err := w.cfg.Chain.RegisterBlockEpochs()
	if err != nil {
		return fmt.Errorf("register block epochs: %w", err)
	}
	if err := w.watchAll(); err != nil {
		epochs.Cancel()
		return err
	}
	w.running = true
	close(w.started)
	w.wg.Add(2)
	go w.syncLoop(epochs)
	go w.mempoolLoop()
	return nil
}

// Stop ends chain tracking, waits for the wallet's goroutines, forgets the
// keys and closes the database. Safe to call more than once.
func (w *Wallet) Stop() error {
	w.lifeMu.Lock()
	defer w.lifeMu.Unlock()
	if w.stopped {
		return nil
	}
	w.stopped = true
	close(w.quit)
	w.wg.Wait()
	w.mu.Lock()
	if w.keys != nil {
		w.keys.lock()
		w.keys = nil
	}
	w.mu.Unlock()
	return w.closeDB()
}

// ctx returns a context cancelled when the wallet stops.
func (w *Wallet) ctx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-w.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// updateIndexed is db.Update for functions that add to the in-memory
// script index (extendHorizon). A run of f that does not commit, because
// it failed or because a replicated backend runs f again after a
// conflict, would leave the index ahead of the database: each new run,
// and a failure, first puts the index back as it was. Called with mu
// held.
func (w *Wallet) updateIndexed(f func(tx kvdb.RwTx) error) error {
	derived := maps.Clone(w.derived)
	runs := 0
	err := w.db.Update(func(tx kvdb.RwTx) error {
		if runs++; runs > 1 {
			w.resetIndex(derived)
		}
		return f(tx)
	})
	if err != nil {
		w.resetIndex(derived)
	}
	return err
}

// resetIndex forgets the scripts derived past derived.
func (w *Wallet) resetIndex(derived map[[2]uint8]uint32) {
	for s, d := range w.scripts {
		if d.Index >= derived[[2]uint8{uint8(d.Type), d.Branch}] {
			delete(w.scripts, s)
		}
	}
	w.derived = maps.Clone(derived)
}

// extendHorizon derives and stores scripts so that every branch has
// GapLimit unused addresses watched past max(next handed out, highest
// used + 1). Called with mu held. Returns the scripts it added.
func (w *Wallet) extendHorizon(tx kvdb.RwTx) ([][]byte, error) {
	var added [][]byte
	for _, t := range addressTypes {
		for _, br := range []uint8{branchReceive, branchChange} {
			id := [2]uint8{uint8(t), br}
			next := getUint32(tx.ReadWriteBucket(bucketAddrs), id[:])
			used := getUint32(tx.ReadWriteBucket(bucketUsed), id[:])
			horizon := max(next, used) + w.cfg.GapLimit
			for i := w.derived[id]; i < horizon; i++ {
				d := derivation{Type: t, Branch: br, Index: i}
				script, err := w.scriptFor(d)
				if err != nil {
					return nil, err
				}
				if err := tx.ReadWriteBucket(bucketScripts).Put(script, encodeDeriv(d)); err != nil {
					return nil, err
				}
				w.scripts[string(script)] = d
				w.derived[id] = i + 1
				added = append(added, script)
			}
		}
	}
	return added, nil
}

// scriptFor derives the output script of an address derivation.
func (w *Wallet) scriptFor(d derivation) ([]byte, error) {
	if w.keys == nil {
		return nil, ErrLocked
	}
	priv, err := w.keys.walletKey(d)
	if err != nil {
		return nil, err
	}
	return pkScriptFor(d.Type, priv.PubKey())
}

// markUsed records that the address d received funds, moving the
// horizon. Called with mu held.
func (w *Wallet) markUsed(tx kvdb.RwTx, d derivation) error {
	id := [2]uint8{uint8(d.Type), d.Branch}
	if used := getUint32(tx.ReadWriteBucket(bucketUsed), id[:]); d.Index+1 > used {
		return tx.ReadWriteBucket(bucketUsed).Put(id[:], u32(d.Index+1))
	}
	return nil
}

// watchAll hands every known script and unspent outpoint to the mempool
// watcher.
func (w *Wallet) watchAll() error {
	w.mu.Lock()
	scripts := make([][]byte, 0, len(w.scripts))
	for s := range w.scripts {
		scripts = append(scripts, []byte(s))
	}
	w.mu.Unlock()
	var ops []wire.OutPoint
	err := w.db.View(func(tx kvdb.RTx) error {
		return tx.ReadBucket(bucketUtxos).ForEach(func(k, _ []byte) error {
			op, err := parseOutpointKey(k)
			ops = append(ops, op)
			return err
		})
	})
	if err != nil {
		return err
	}
	if err := w.cfg.Chain.WatchMempool(scripts, ops); err != nil {
		return fmt.Errorf("watch mempool: %w", err)
	}
	return nil
}

// watch adds scripts and outpoints to the mempool filter once started.
func (w *Wallet) watch(scripts [][]byte, ops []wire.OutPoint) {
	if len(scripts) == 0 && len(ops) == 0 {
		return
	}
	select {
	case <-w.started:
	default:
		return // Start watches everything
	}
	if err := w.cfg.Chain.WatchMempool(scripts, ops); err != nil {
		w.log.Warn("watch mempool", "err", err)
	}
}

// SyncedTo returns the last block the wallet has scanned; height -1
// before the first scan.
func (w *Wallet) SyncedTo() (int32, chainhash.Hash, error) {
	var t tip
	err := w.db.View(func(tx kvdb.RTx) error {
		var found bool
		var err error
		t, found, err = getTip(tx)
		if !found {
			t.Height = -1
		}
		return err
	})
	return t.Height, t.Hash, err
}

// WaitSynced blocks until the wallet has scanned up to at least height or
// ctx ends.
func (w *Wallet) WaitSynced(ctx context.Context, height int32) error {
	for {
		h, _, err := w.SyncedTo()
		if err != nil {
			return err
		}
		if h >= height {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wallet synced to %d, want %d: %w", h, height, ctx.Err())
		case <-w.quit:
			return ErrShuttingDown
		case <-w.synced:
		case <-time.After(200 * time.Millisecond):
		}
	}
}
