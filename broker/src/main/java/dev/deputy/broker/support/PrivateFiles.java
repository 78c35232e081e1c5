package dev.deputy.broker.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Files only the broker's own user may read: directories 0700, files 0600 (the data dir, the H2 database, the master
 * key, audit journal segments and archives, the TLS key). On a file system without POSIX permissions these are no-ops.
 */
public final class PrivateFiles {
    public static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private PrivateFiles() {
    }

    /** Attributes for {@code Files.createFile} / {@code FileChannel.open}: mode 0600 (none off POSIX). */
    public static FileAttribute<?>[] fileAttributes() {
        return POSIX ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(FILE)} : new FileAttribute<?>[0];
    }

    /**
     * Creates {@code dir} (and missing parents) and leaves it 0700: a new leaf is created so, an existing one is
     * tightened (the directory is the broker's own). Parents keep what they have.
     */
    public static Path directory(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Path parent = dir.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                try {
                    if (POSIX) {
                        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR));
                    } else {
                        Files.createDirectory(dir);
                    }
                } catch (java.nio.file.FileAlreadyExistsException raced) {
                    // created meanwhile (another thread or process): tightened below
                }
            }
            restrict(dir, DIR);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Creates an empty file with mode 0600 (the umask cannot widen it: the mode is set at creation). */
    public static Path createFile(Path file) throws IOException {
        return Files.createFile(file, fileAttributes());
    }

    /**
     * Tightens everything under {@code dir} that the broker created with the process umask (H2's database files):
     * directories 0700, regular files 0600. Symbolic links are not followed.
     */
    public static void tighten(Path dir) {
        if (!POSIX || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    restrict(p, DIR);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    restrict(p, FILE);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // a file vanishing during the walk (an H2 temp file) is not an error
        }
    }

    private static void restrict(Path p, Set<PosixFilePermission> mode) throws IOException {
        if (POSIX && !mode.equals(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS))) {
            Files.setPosixFilePermissions(p, mode);
        }
    }
}
