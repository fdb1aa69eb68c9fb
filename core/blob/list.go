package blob

import (
	"context"
	"errors"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/packs"
)

// kernel names the files a pack's manifest covers; a prefix holding some
// of them but no manifest is an unfinished (or interrupted) upload.
var kernel = map[string]bool{
	"receipt_pack.jsonl": true, "verify_report.json": true, "verify_transcript.md": true, "pack_signature.sig": true,
}

// Listing is what `packs list` finds under a location.
type Listing struct {
	URL   string          `json:"directory"`
	Packs []packs.Summary `json:"packs"`
	// Incomplete are prefixes holding pack files but no manifest: not
	// packs (an upload still running, or interrupted).
	Incomplete []string `json:"incomplete"`
}

// ListPacks finds the packs under the location by their manifests (at any
// depth), reading only the manifests; newest first. It verifies nothing.
func (l *Location) ListPacks(ctx context.Context) (*Listing, error) {
	type dirInfo struct {
		manifest bool
		kernel   bool
		mod      time.Time
	}
	dirs := map[string]*dirInfo{}
	it := l.Bucket.List(nil)
	n := 0
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, l.err(err, "list "+l.URL)
		}
		if n++; n > 1_000_000 {
			break // bounded; a million objects is not a pack folder
		}
		d, base := path.Split(o.Key)
		di := dirs[d]
		if di == nil {
			di = &dirInfo{}
			dirs[d] = di
		}
		switch {
		case base == ManifestName:
			di.manifest, di.mod = true, o.ModTime
		case kernel[base]:
			di.kernel = true
		}
	}
	out := &Listing{URL: l.URL, Packs: []packs.Summary{}, Incomplete: []string{}}
	for d, di := range dirs {
		where := l.Join(d)
		if d == "" {
			where = l.URL
		}
		if !di.manifest {
			if di.kernel {
				out.Incomplete = append(out.Incomplete, where)
			}
			continue
		}
		s := packs.Summary{Path: where, NReceipts: -1}
		m, err := l.readManifest(ctx, d+ManifestName)
		if err != nil {
			s.Error = err.Error()
		} else {
			s = packs.SummaryOf(where, m)
		}
		s.ModTime = di.mod.UTC()
		out.Packs = append(out.Packs, s)
	}
	sort.Slice(out.Packs, func(i, j int) bool {
		if !out.Packs[i].ModTime.Equal(out.Packs[j].ModTime) {
			return out.Packs[i].ModTime.After(out.Packs[j].ModTime)
		}
		return out.Packs[i].Path < out.Packs[j].Path
	})
	sort.Strings(out.Incomplete)
	return out, nil
}

// readManifest reads and decodes one manifest, bounded.
func (l *Location) readManifest(ctx context.Context, key string) (*pack.Doc, error) {
	r, err := l.Bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, l.err(err, "read "+l.Join(key))
	}
	defer r.Close()
	raw, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return nil, l.err(err, "read "+l.Join(key))
	}
	if len(raw) > maxManifestBytes {
		return nil, errors.New("manifest larger than 64 MiB")
	}
	d, err := pack.ParseManifest(raw)
	if err != nil {
		return nil, errors.New("manifest is not a JSON object: " + strings.SplitN(err.Error(), "\n", 2)[0])
	}
	return d, nil
}
