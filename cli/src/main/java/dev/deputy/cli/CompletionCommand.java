package dev.deputy.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/**
 * {@code deputy completion bash|zsh}: prints the shell completion script picocli generates from the command tree
 * ({@code source <(deputy completion bash)}; zsh runs the same script through bashcompinit).
 */
@Command(name = "completion", description = {"Print a shell completion script.",
        "bash: source <(scripts/deputy completion bash)",
        "zsh:  autoload -U +X bashcompinit && bashcompinit && source <(scripts/deputy completion zsh)"})
final class CompletionCommand implements Callable<Integer> {
    enum Shell { bash, zsh }

    @ParentCommand
    Deputy root;

    @Parameters(paramLabel = "SHELL", description = "bash or zsh")
    Shell shell;

    @Override
    public Integer call() {
        CommandLine tree = Deputy.commandLine(root.io);
        root.io.out().print(AutoComplete.bash("deputy", tree));
        root.io.out().flush();
        return ExitCodes.OK;
    }
}
