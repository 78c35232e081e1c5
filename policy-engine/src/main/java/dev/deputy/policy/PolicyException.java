package dev.deputy.policy;

/** A bad policy or fixture file: its name, the line when known, and the reason. */
public class PolicyException extends RuntimeException {
    private final String file;
    private final int line;

    public PolicyException(String file, int line, String reason) {
        super(file + (line > 0 ? ":" + line : "") + ": " + reason);
        this.file = file;
        this.line = line;
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }
}
