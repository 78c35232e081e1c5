package dev.deputy.cli;

/** A failure with its exit code (see {@link ExitCodes}); the message is printed as {@code deputy: <message>}. */
public final class CliException extends RuntimeException {
    private final int code;

    public CliException(int code, String message) {
        super(message);
        this.code = code;
    }

    public int code() {
        return code;
    }

    static CliException failed(String message) {
        return new CliException(ExitCodes.FAILED, message);
    }

    static CliException usage(String message) {
        return new CliException(ExitCodes.USAGE, message);
    }
}
