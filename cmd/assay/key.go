package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
)

// keySubcommands lets other files add `assay key` subcommands.
var keySubcommands []func() *cobra.Command

func init() { commands = append(commands, newKeyCmd) }

// openKeystore opens the keystore under the assay home.
func openKeystore(env *cliEnv) (*keys.Store, string, error) {
	home, err := env.Home()
	if err != nil {
		return nil, "", err
	}
	if st, err := os.Stat(home); err == nil && !st.IsDir() {
		return nil, "", exit.Bad("point ASSAY_HOME at a directory (or unset it for ~/.assay)", "the assay home %s is not a directory", home)
	}
	return keys.Open(home), home, nil
}

type keyInfo struct {
	SignerID    string `json:"signer_id"`
	Active      bool   `json:"active"`
	Algorithm   string `json:"algorithm"`
	Fingerprint string `json:"fingerprint"`
	PubkeyB64   string `json:"pubkey_b64"`
	KeyPath     string `json:"key_path"`
	PubPath     string `json:"pub_path"`
}

func describeKey(ks *keys.Store, id string) (keyInfo, error) {
	pub, err := ks.LoadPublic(id)
	if err != nil {
		return keyInfo{}, err
	}
	return keyInfo{SignerID: id, Active: ks.Active() == id, Algorithm: "Ed25519", Fingerprint: keys.Fingerprint(pub),
		PubkeyB64: keys.PubB64(pub), KeyPath: ks.KeyPath(id), PubPath: ks.PubPath(id)}, nil
}

func newKeyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "key",
		Short:   "Manage Ed25519 signing keys (list, generate, set-active, info, …)",
		GroupID: "setup",
		Long: `Signing keys live in $ASSAY_HOME/keys (default ~/.assay/keys): <id>.key holds the
raw 32-byte Ed25519 seed (mode 0600), <id>.pub the raw public key, and
.active_signer names the key that proof-pack and run sign with.`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List signing keys and the active signer", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			ids, err := ks.List()
			if err != nil {
				return fmt.Errorf("list keys in %s: %w", ks.Dir, err)
			}
			out := []keyInfo{}
			for _, id := range ids {
				k, err := describeKey(ks, id)
				if err != nil {
					return err
				}
				out = append(out, k)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"active_signer": ks.Active(), "keystore": ks.Dir, "signers": out})
			}
			if len(out) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "No signing keys in %s. Create one with: assay key generate\n", ks.Dir)
				return nil
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(w, "ACTIVE\tSIGNER\tFINGERPRINT")
			for _, k := range out {
				mark := ""
				if k.Active {
					mark = "*"
				}
				fmt.Fprintf(w, "%s\t%s\t%s...\n", mark, k.SignerID, k.Fingerprint[:16])
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var noActive bool
	var genJSON bool
	gen := &cobra.Command{
		Use: "generate [SIGNER_ID]", Short: "Create a new signing key (default id assay-local) and make it active", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := keys.DefaultSigner
			if len(args) == 1 {
				id = args[0]
			}
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			if _, err := ks.Generate(id); err != nil {
				return err
			}
			if !noActive {
				if err := ks.SetActive(id); err != nil {
					return err
				}
			}
			k, err := describeKey(ks, id)
			if err != nil {
				return err
			}
			if genJSON {
				return writeJSON(cmd.OutOrStdout(), k)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Generated signing key %s (fingerprint %s)\n", id, k.Fingerprint)
			if k.Active {
				fmt.Fprintf(cmd.OutOrStdout(), "It is now the active signer.\n")
			}
			return nil
		},
	}
	gen.Flags().BoolVar(&noActive, "no-set-active", false, "do not make the new key the active signer")
	gen.Flags().BoolVar(&genJSON, "json", false, "print JSON")

	var setJSON bool
	setActive := &cobra.Command{
		Use: "set-active SIGNER_ID", Short: "Make an existing key the active signer", Args: exactArgs(1, "give the signer id ('assay key list' shows them)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			if err := ks.SetActive(args[0]); err != nil {
				return err
			}
			if setJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"active_signer": args[0], "keystore": ks.Dir})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Active signer: %s\n", args[0])
			return nil
		},
	}
	setActive.Flags().BoolVar(&setJSON, "json", false, "print JSON")
	var infoJSON bool
	info := &cobra.Command{
		Use: "info [SIGNER_ID]", Short: "Show a key's algorithm, fingerprint and public key (default: the active signer)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			id := ks.Active()
			if len(args) == 1 {
				id = args[0]
			}
			if err := keys.ValidID(id); err != nil {
				return err
			}
			if !ks.Exists(id) {
				return exitBadKey(id, ks.Dir)
			}
			k, err := describeKey(ks, id)
			if err != nil {
				return err
			}
			if infoJSON {
				return writeJSON(cmd.OutOrStdout(), k)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintf(w, "Signer:\t%s\nActive:\t%v\nAlgorithm:\t%s\nFingerprint:\t%s\nPublic key:\t%s\nKey file:\t%s\nPublic key file:\t%s\n",
				k.SignerID, k.Active, k.Algorithm, k.Fingerprint, k.PubkeyB64, k.KeyPath, k.PubPath)
			return w.Flush()
		},
	}
	info.Flags().BoolVar(&infoJSON, "json", false, "print JSON")
	c.AddCommand(list, gen, setActive, info)
	for _, mk := range keySubcommands {
		c.AddCommand(mk())
	}
	return c
}
