package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
)

func init() { commands = append(commands, newCardsCmd) }

// cardView is a card as `cards list|show --json` prints it.
type cardView struct {
	CardID       string `json:"card_id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	ClaimSetHash string `json:"claim_set_hash"`
	// Reference: the card hashes exactly as the reference's card of that id.
	Reference bool           `json:"in_reference"`
	Claims    []claims.Claim `json:"claims"`
}

func viewCard(c *claims.Card) (cardView, error) {
	h, err := claims.SetHash(c.Claims)
	if err != nil {
		return cardView{}, err
	}
	// A card is the reference's when it is one of its built-ins as defined
	// there (a file reusing the id with other claims is not).
	ref := false
	for _, id := range claims.ReferenceIDs {
		if b, ok := claims.Builtin(id); ok && id == c.CardID {
			bh, _ := claims.SetHash(b.Claims)
			ref = bh == h
		}
	}
	return cardView{CardID: c.CardID, Name: c.Name, Description: c.Description, ClaimSetHash: h, Reference: ref, Claims: c.Claims}, nil
}

func newCardsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "cards",
		Short:   "List and show run cards (the claims a pack is checked against)",
		GroupID: "standards",
		Long: `A run card is a named list of claims; each claim runs a check over the pack's
receipts. Give cards to 'assay run -c CARD' or 'assay proof-pack -c CARD' by
built-in id or as a path to a card JSON file:

  {"card_id": "mine", "name": "Mine", "claims": [
    {"claim_id": "has_calls", "check": "receipt_type_present",
     "params": {"receipt_type": "model_call"}, "severity": "critical"}]}

A file may also extend a built-in card with its own params:

  {"extends": "token_budget", "params": {"max_total_tokens": 50000}}
  {"extends": "model_allowlist", "params": {"models": ["gpt-4o"]}}`,
	}
	var listJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List the built-in cards", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var views []cardView
			for _, id := range claims.BuiltinIDs() {
				card, _ := claims.Builtin(id)
				v, err := viewCard(card)
				if err != nil {
					return err
				}
				views = append(views, v)
			}
			if listJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"cards": views, "checks": claims.CheckNames()})
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(w, "CARD\tCLAIMS\tCLAIM SET HASH\tDESCRIPTION")
			for _, v := range views {
				fmt.Fprintf(w, "%s\t%d\t%s…\t%s\n", v.CardID, len(v.Claims), v.ClaimSetHash[:12], v.Description)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "\nShow one with: assay cards show CARD")
			return nil
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use: "show CARD", Short: "Show a card's claims, checks, params and severities (a built-in id or a card file)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			card, err := claims.Load(args[0])
			if err != nil {
				return err
			}
			v, err := viewCard(card)
			if err != nil {
				return err
			}
			if showJSON {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			out := cmd.OutOrStdout()
			st := newStyle(out)
			fmt.Fprintf(out, "%s  %s\n", st.Bold(v.CardID), v.Name)
			if v.Description != "" {
				fmt.Fprintf(out, "%s\n", v.Description)
			}
			fmt.Fprintf(out, "claim_set_hash: %s\n", v.ClaimSetHash)
			if !v.Reference {
				fmt.Fprintln(out, st.Dim("(not hash-identical to a card of the reference implementation: its lock check and packs will not match this claim_set_hash)"))
			}
			fmt.Fprintln(out)
			for _, cl := range v.Claims {
				params, err := canon.Marshal(cl.Params)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "  %s [%s]\n    check:  %s %s\n", st.Bold(cl.ClaimID), cl.Severity, cl.Check, string(params))
				if cl.Description != "" {
					fmt.Fprintf(out, "    %s\n", cl.Description)
				}
			}
			fmt.Fprintf(out, "\nChecks available: %s\n", strings.Join(claims.CheckNames(), ", "))
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	c.AddCommand(list, show)
	return c
}
