package dev.deputy.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A command group ({@code deputy agent}, {@code deputy role}, …): without a subcommand it is a usage error. */
abstract class Group implements Runnable {
    @ParentCommand
    Deputy root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    AdminApi api() {
        return root.api();
    }

    Output out() {
        return root.out();
    }

    Io io() {
        return root.io;
    }
}
