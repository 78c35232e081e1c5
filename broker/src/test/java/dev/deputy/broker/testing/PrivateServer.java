package dev.deputy.broker.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Redis or MariaDB server of the test's own: a child process on a spare loopback port, which the test
 * can kill and start again on the same port and data. Killed by {@link #close()} and, should the JVM
 * exit first, by a shutdown hook.
 */
public abstract class PrivateServer implements AutoCloseable {
    protected final Path dir;
    protected final int port;
    private final String name;
    private Process process;
    private final Thread hook = new Thread(this::kill);

    protected PrivateServer(String name, Path dir) {
        this.name = name;
        this.dir = dir;
        this.port = sparePort();
        Runtime.getRuntime().addShutdownHook(hook);
    }

    public static int sparePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The executable, or a failure naming the package to install. */
    protected static String executable(String name, String debianPackage, String... candidates) {
        List<String> places = new ArrayList<>(List.of(candidates));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                places.add(d + "/" + name);
            }
        }
        for (String p : places) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        throw new IllegalStateException(name + " is not installed (apt-get install " + debianPackage
                + "; scripts/services --install does it)");
    }

    protected abstract List<String> command();

    /** True once the server answers. */
    protected abstract boolean ready();

    public int port() {
        return port;
    }

    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            Path log = dir.resolve(name + ".log");
            process = new ProcessBuilder(command()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!ready()) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(name + " exited with " + process.exitValue() + "; log:\n" + tail(log));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + " did not answer on port " + port + " within 60 s; log:\n" + tail(log));
                }
                Thread.sleep(100);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGKILL: the server vanishes as in a crash. */
    public synchronized void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** {@code redis-server} with nothing on disk. */
    public static final class Redis extends PrivateServer {
        private final String exe = executable("redis-server", "redis-server", "/usr/bin/redis-server");

        public Redis(Path dir) {
            super("redis", dir);
        }

        public String uri() {
            return "redis://127.0.0.1:" + port;
        }

        @Override
        protected List<String> command() {
            return List.of(exe, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--dir", dir.toString(), "--logfile", "");
        }

        @Override
        protected boolean ready() {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                s.setSoTimeout(1000);
                OutputStream out = s.getOutputStream();
                out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                byte[] buf = new byte[7];
                int n = in.readNBytes(buf, 0, 7);
                return new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
            } catch (IOException e) {
                return false;
            }
        }
    }

    /**
     * {@code mariadbd} on a data directory made by {@code mariadb-install-db}, as root, without grant checks
     * (any user, empty password), TCP on loopback only.
     */
    public static final class MariaDb extends PrivateServer {
        private final String exe = executable("mariadbd", "mariadb-server", "/usr/sbin/mariadbd");
        private final Path data;

        public MariaDb(Path dir) {
            super("mariadb", dir);
            this.data = dir.resolve("data");
            String install = executable("mariadb-install-db", "mariadb-server", "/usr/bin/mariadb-install-db");
            try {
                Process p = new ProcessBuilder(install, "--no-defaults", "--datadir=" + data, "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db").redirectErrorStream(true)
                        .redirectOutput(dir.resolve("install.log").toFile()).start();
                if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    p.destroyForcibly();
                    throw new IllegalStateException("mariadb-install-db failed; log:\n" + tail(dir.resolve("install.log")));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        public String serverUrl() {
            return "jdbc:mysql://127.0.0.1:" + port + "/";
        }

        @Override
        protected List<String> command() {
            return List.of(exe, "--no-defaults", "--datadir=" + data, "--port=" + port, "--bind-address=127.0.0.1",
                    "--socket=" + dir.resolve("mariadb.sock"), "--pid-file=" + dir.resolve("mariadb.pid"), "--user=root",
                    "--skip-grant-tables", "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=16M",
                    "--innodb-log-file-size=8M", "--performance-schema=OFF");
        }

        @Override
        protected boolean ready() {
            DriverManager.setLoginTimeout(2);
            try (Connection c = DriverManager.getConnection(serverUrl() + "?connectTimeout=1000", "root", "")) {
                return c.isValid(1);
            } catch (SQLException e) {
                return false;
            }
        }

        public void createDatabase(String name) {
            try (Connection c = DriverManager.getConnection(serverUrl(), "root", "");
                 var s = c.createStatement()) {
                s.execute("CREATE DATABASE IF NOT EXISTS `" + name + "`");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    }

}
