// Command xlnd is the xlnd Lightning Network node daemon.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "xlnd:", err)
		os.Exit(1)
	}
}
