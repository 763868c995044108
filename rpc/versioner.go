package rpc

import (
	"context"
	"runtime"
	"strconv"
	"strings"

	"lnd.xprv/rpc/lnrpc/verrpc"
)

// servedSubServers are the build tags lnd reports for the sub-servers this
// node serves; client libraries check them before using a sub-server.
var servedSubServers = []string{"walletrpc", "chainrpc"}

// versionerService implements verrpc.VersionerServer.
type versionerService struct {
	verrpc.UnimplementedVersionerServer
	s *Server
}

func (v *versionerService) GetVersion(context.Context, *verrpc.VersionRequest) (*verrpc.Version, error) {
	return VersionInfo(v.s.cfg.Version, v.s.cfg.CommitHash), nil
}

// VersionInfo describes a build for Versioner.GetVersion (and xlncli
// version). version is "<semver>[ <our own version>...]", as
// DefaultVersion: the semver, lnd-like, is what apps parse; the rest is
// reported as the commit description.
func VersionInfo(version, commitHash string) *verrpc.Version {
	semver, commit, _ := strings.Cut(strings.TrimSpace(version), " ")
	out := &verrpc.Version{
		Commit:     strings.TrimSpace(commit),
		CommitHash: commitHash,
		Version:    semver,
		BuildTags:  append([]string(nil), servedSubServers...),
		GoVersion:  runtime.Version(),
	}
	core, pre, _ := strings.Cut(semver, "-")
	out.AppPreRelease = pre
	parts := strings.SplitN(core, ".", 3)
	nums := []*uint32{&out.AppMajor, &out.AppMinor, &out.AppPatch}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			break
		}
		*nums[i] = uint32(n)
	}
	return out
}
