package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/spf13/cobra"
)

// buildVersion describes this binary: its module version, the commit it was built
// from (with "+dirty" for uncommitted changes) and its Go version, from the build
// information the Go toolchain embeds.
func buildVersion() (version, commit, goVersion string) {
	version, commit, goVersion = "(devel)", "unknown", runtime.Version()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if v := info.Main.Version; v != "" {
		version = v
	}
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		commit += "+dirty"
	}
	return
}

func writeVersion(w io.Writer, dataDir string) error {
	version, commit, goVersion := buildVersion()
	fmt.Fprintf(w, "iamlocal %s\ncommit: %s\ngo: %s\ndata schema: %d\n", version, commit, goVersion, store.SchemaVersion)
	if dataDir == "" {
		return nil
	}
	v, err := store.DataSchemaVersion(dataDir)
	switch {
	case err != nil:
		return fmt.Errorf("reading %s: %w", dataDir, err)
	case v == 0:
		fmt.Fprintf(w, "data directory %s: no database yet\n", dataDir)
	default:
		fmt.Fprintf(w, "data directory %s: schema %d\n", dataDir, v)
	}
	return nil
}

func newVersionCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "version [--data DIR]",
		Short: "Print iamlocal's version, commit, Go version and data schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeVersion(cmd.OutOrStdout(), dataDir)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "also report the schema version of data directory `DIR`")
	return cmd
}
