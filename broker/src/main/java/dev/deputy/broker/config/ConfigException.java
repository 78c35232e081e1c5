package dev.deputy.broker.config;

import java.nio.file.Path;

/** A bad file in the config tree: names the file, the line (when known) and the reason. */
public class ConfigException extends RuntimeException {
    private final Path file;
    private final int line;

    public ConfigException(Path file, int line, String reason) {
        super(file + (line > 0 ? ":" + line : "") + ": " + reason);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    public int line() {
        return line;
    }
}
