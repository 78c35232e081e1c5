package dev.deputy.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;

/**
 * What a run of the CLI talks to: its environment, streams and whether a person is at the terminal (for
 * confirmations). Tests pass their own.
 */
public record Io(Map<String, String> env, PrintStream out, PrintStream err, BufferedReader in, boolean tty) {

    /**
     * Asks before something destructive. {@code --yes} skips the question; without a terminal and without
     * {@code --yes} it refuses (exit 2), so a CI job never hangs or destroys by accident.
     */
    public void confirm(boolean yes, String what) {
        if (yes) {
            return;
        }
        if (!tty) {
            throw CliException.usage("refusing to " + what + " without confirmation: no terminal to ask on; pass --yes");
        }
        err.print(what + "? [y/N] ");
        err.flush();
        String answer;
        try {
            answer = in == null ? null : in.readLine();
        } catch (IOException e) {
            answer = null;
        }
        if (answer == null || !(answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"))) {
            throw CliException.failed("not confirmed: nothing changed");
        }
    }

    /** Colours on stdout: only at a terminal, and not with NO_COLOR set or TERM=dumb. */
    public boolean color() {
        return tty && !env.containsKey("NO_COLOR") && !"dumb".equals(env.get("TERM"));
    }

    /** A progress line on stderr (never on stdout, which stays parseable). */
    public void progress(String line) {
        err.println(line);
        err.flush();
    }
}
