// The cosignature oracle: Go's crypto/ed25519 checks a witness's cosignature on a checkpoint as
// c2sp.org/tlog-cosignature defines it, without mission-ledger's code. Usage:
//
//	go run cosignature.go WITNESS-VKEY < NOTE
//
// WITNESS-VKEY is name+id+base64(0x04 ‖ key); NOTE a signed checkpoint with its signature lines.
// It finds the line `— name base64(key id ‖ timestamp ‖ signature)` whose key id is
// SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4], and verifies the signature over
// "cosignature/v1\ntime <timestamp>\n" and the note's text. Prints the timestamp; exit 1 otherwise.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	parts := strings.SplitN(os.Args[1], "+", 3)
	if len(parts) != 3 {
		fail("not a vkey")
	}
	name := parts[0]
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 33 || key[0] != 0x04 {
		fail("not an Ed25519 cosigner key")
	}
	public := ed25519.PublicKey(key[1:])
	sum := sha256.Sum256(append([]byte(name+"\n\x04"), public...))
	note, _ := io.ReadAll(os.Stdin)
	split := bytes.Index(note, []byte("\n\n"))
	if split < 0 {
		fail("not a signed note")
	}
	text := note[:split+1]
	for _, line := range strings.Split(string(note[split+2:]), "\n") {
		fields := strings.Fields(strings.TrimPrefix(line, "\u2014 "))
		if len(fields) != 2 || fields[0] != name {
			continue
		}
		blob, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil || len(blob) != 4+8+64 || !bytes.Equal(blob[:4], sum[:4]) {
			continue
		}
		timestamp := binary.BigEndian.Uint64(blob[4:12])
		message := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", timestamp)), text...)
		if !ed25519.Verify(public, message, blob[12:]) {
			fail("the cosignature by %s does not verify", name)
		}
		fmt.Println(timestamp)
		return
	}
	fail("no cosignature by %s", name)
}
