// The tiles oracle: Go's golang.org/x/mod/sumdb (note, tlog) reads mission-ledger's log through
// its C2SP tiles as Go's checksum database reads its own. Usage:
//
//	go run tiles.go BASE VKEY [INDEX | old=SIZE]...
//
// BASE is the tiles' URL prefix (…/api/v1/log), VKEY the log's verifier key; the bearer token is
// in MISSION_LEDGER_TOKEN. It opens BASE/checkpoint with VKEY, reads tiles through
// tlog.TileHashReader (which checks every tile against the checkpoint's tree), proves and checks
// the inclusion of each leaf INDEX (its entry read from the entry bundle), and proves and checks
// the consistency of each old SIZE with the checkpoint. One JSON object per line; exit 1 on any
// failure.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type tiles struct{ base, token string }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func (t tiles) get(path string) []byte {
	req, err := http.NewRequest("GET", t.base+"/"+path, nil)
	if err != nil {
		fail("%s: %v", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail("%s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		fail("%s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// c2sp names a tile as tlog-tiles does: sumdb's names carry the height (tile/8/L/N), C2SP's not.
func c2sp(tile tlog.Tile) string {
	return strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
}

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(list []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, tile := range list {
		out[i] = t.get(c2sp(tile))
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func say(v any) {
	line, _ := json.Marshal(v)
	fmt.Println(string(line))
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: go run tiles.go BASE VKEY [INDEX | old=SIZE]...")
	}
	source := tiles{strings.TrimRight(os.Args[1], "/"), os.Getenv("MISSION_LEDGER_TOKEN")}
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("the verifier key: %v", err)
	}
	opened, err := note.Open(source.get("checkpoint"), note.VerifierList(verifier))
	if err != nil {
		fail("the checkpoint: %v", err)
	}
	lines := strings.Split(opened.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("the checkpoint's size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("the checkpoint's root: %v", err)
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	reader := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, source)
	say(map[string]any{"origin": lines[0], "size": size, "root": hex.EncodeToString(root[:])})
	for _, arg := range os.Args[3:] {
		if strings.HasPrefix(arg, "old=") {
			old, _ := strconv.ParseInt(strings.TrimPrefix(arg, "old="), 10, 64)
			oldHash, err := tlog.TreeHash(old, reader)
			if err != nil {
				fail("the tree of %d: %v", old, err)
			}
			proof, err := tlog.ProveTree(size, old, reader)
			if err != nil {
				fail("proving %d → %d: %v", old, size, err)
			}
			if err := tlog.CheckTree(proof, size, root, old, oldHash); err != nil {
				fail("consistency %d → %d: %v", old, size, err)
			}
			say(map[string]any{"old": old, "root": hex.EncodeToString(oldHash[:]), "consistent": true})
			continue
		}
		index, _ := strconv.ParseInt(arg, 10, 64)
		n, width := index/256, int64(256)
		if (n+1)*256 > size {
			width = size - n*256
		}
		name := strings.Replace(c2sp(tlog.Tile{H: 8, L: 0, N: n, W: int(width)}), "tile/0/", "tile/entries/", 1)
		bundle := source.get(name)
		var entry []byte
		for at, i := 0, int64(0); at < len(bundle); i++ {
			length := int(binary.BigEndian.Uint16(bundle[at:]))
			if i == index%256 {
				entry = bundle[at+2 : at+2+length]
			}
			at += 2 + length
		}
		proof, err := tlog.ProveRecord(size, index, reader)
		if err != nil {
			fail("proving leaf %d: %v", index, err)
		}
		if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
			fail("leaf %d: %v", index, err)
		}
		// The entry's second line is its ledger position (docs/integrity.md, the canonical leaf bytes).
		say(map[string]any{"leaf": index, "included": true, "position": strings.SplitN(string(entry), "\n", 3)[1]})
	}
}
