package dev.deputy.cli;

/** The CLI's exit codes (docs/cli.md). */
public final class ExitCodes {
    public static final int OK = 0;
    /** The broker refused, a check or verification failed, or the broker is unreachable. */
    public static final int FAILED = 1;
    /** Bad usage: unknown command or option, missing or extra argument, refused confirmation without a TTY. */
    public static final int USAGE = 2;
    public static final int NOT_FOUND = 3;
    public static final int CONFLICT = 4;
    /** A plan grants a privileged role and lacks a second admin's approval (deputy plan, deputy apply). */
    public static final int APPROVAL_REQUIRED = 5;

    private ExitCodes() {
    }

    /** The exit code for a broker answer's HTTP status. */
    public static int forStatus(int status) {
        return switch (status) {
            case 404 -> NOT_FOUND;
            case 409 -> CONFLICT;
            default -> FAILED;
        };
    }
}
