package tools

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
)

// maxResourceBytes bounds a pack file served as a resource.
const maxResourceBytes = 64 << 20

// PackURITemplate names a file of a pack under the allowed roots.
const PackURITemplate = "assay://pack/{id}/{file}"

// Bounds of the resource list: packs found under the roots (newest first)
// and how deep the walk goes.
const (
	maxListedPacks = 50
	maxWalkDepth   = 5
	maxWalkDirs    = 5000
)

func packURI(id, file string) string { return "assay://pack/" + id + "/" + file }

var fileMIME = map[string]string{
	pack.FileReceipts:   "application/jsonl",
	pack.FileReport:     "application/json",
	pack.FileTranscript: "text/markdown",
	pack.FileManifest:   "application/json",
	pack.FileSignature:  "application/octet-stream",
}

func (s *Server) addResources() {
	s.MCP.AddResourceTemplate(
		mcp.NewResourceTemplate(PackURITemplate, "pack-file",
			mcp.WithTemplateDescription("A file of a proof pack under the allowed roots: receipt_pack.jsonl, verify_report.json, verify_transcript.md, pack_manifest.json or pack_signature.sig"),
		),
		s.readPackFile,
	)
}

// registerFoundPacks lists the packs found under the roots. It runs on the
// first resources/list (a hook in New), not at start: the walk reads up to
// maxWalkDirs directories, which a server started in a large repository
// would otherwise pay for before its first answer.
func (s *Server) registerFoundPacks() {
	for _, dir := range s.findPacks() {
		s.registerPack(dir)
	}
}

// registerPack makes a pack readable and listed as resources; it returns the
// pack's resource id (its directory name, made unique).
func (s *Server) registerPack(dir string) string {
	s.packsMu.Lock()
	id := filepath.Base(dir)
	for i := 2; ; i++ {
		if cur, ok := s.packs[id]; !ok || cur == dir {
			break
		}
		id = fmt.Sprintf("%s~%d", filepath.Base(dir), i)
	}
	s.packs[id] = dir
	s.packsMu.Unlock()
	var rs []server.ServerResource
	for _, f := range pack.KernelFiles {
		rs = append(rs, server.ServerResource{
			Resource: mcp.NewResource(packURI(id, f), id+"/"+f,
				mcp.WithMIMEType(fileMIME[f]),
				mcp.WithResourceDescription("file "+f+" of the proof pack at "+dir)),
			Handler: s.readPackFile,
		})
	}
	// One call, so one list_changed notification per pack.
	s.MCP.AddResources(rs...)
	return id
}

// findPacks walks the roots (bounded) for pack directories, newest first.
func (s *Server) findPacks() []string {
	type found struct {
		dir string
		mod int64
	}
	var all []found
	seen := 0
	for _, root := range s.roots.list() {
		base := strings.Count(root, string(filepath.Separator))
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			seen++
			if seen > maxWalkDirs {
				return filepath.SkipAll
			}
			name := d.Name()
			if p != root && (name == "node_modules" || name == ".git" || name == "vendor") {
				return filepath.SkipDir
			}
			if strings.Count(p, string(filepath.Separator))-base > maxWalkDepth {
				return filepath.SkipDir
			}
			if fi, err := os.Stat(filepath.Join(p, pack.FileManifest)); err == nil {
				all = append(all, found{p, fi.ModTime().UnixNano()})
				return filepath.SkipDir
			}
			return nil
		})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod > all[j].mod })
	if len(all) > maxListedPacks {
		all = all[:maxListedPacks]
	}
	dirs := make([]string, len(all))
	for i, f := range all {
		dirs[i] = f.dir
	}
	return dirs
}

func (s *Server) readPackFile(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	uri := req.Params.URI
	rest, ok := strings.CutPrefix(uri, "assay://pack/")
	id, file, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || fileMIME[file] == "" {
		return nil, fmt.Errorf("resource %q is not %s with one of the five pack files", uri, PackURITemplate)
	}
	s.packsMu.Lock()
	dir, known := s.packs[id]
	s.packsMu.Unlock()
	if !known {
		// A pack written since the last scan.
		for _, d := range s.findPacks() {
			if filepath.Base(d) == id {
				dir, known = d, true
				s.registerPack(d)
				break
			}
		}
	}
	if !known {
		return nil, fmt.Errorf("no pack %q under the allowed roots", id)
	}
	d, err := s.roots.resolve(dir)
	if err != nil {
		return nil, err
	}
	// Read through the pack's root: a file linking out of the pack (or a
	// FIFO) is refused, never read.
	b, err := fsutil.ReadFileConfined(d, file, maxResourceBytes)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if file == pack.FileSignature {
		return []mcp.ResourceContents{mcp.BlobResourceContents{URI: uri, MIMEType: fileMIME[file], Blob: base64.StdEncoding.EncodeToString(b)}}, nil
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: fileMIME[file], Text: string(b)}}, nil
}
