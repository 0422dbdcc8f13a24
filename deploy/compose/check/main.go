// Command check loads a Compose file with compose-go, the loader `docker compose config` runs,
// so the file is checked as Docker Compose would check it where no Docker engine or Compose
// plugin is installed: interpolation from the env file (required variables included), the
// Compose Specification schema, and the project's consistency (depends_on targets, volumes,
// networks).
//
//	go run . COMPOSE_FILE ENV_FILE
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: check COMPOSE_FILE ENV_FILE")
		os.Exit(2)
	}
	composeFile, envFile := os.Args[1], os.Args[2]
	options, err := cli.NewProjectOptions(
		[]string{composeFile},
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", composeFile, err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", composeFile, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%s: project %q with %d services is valid\n", composeFile, project.Name, len(project.Services))
}
