package ferry.cli;

import ferry.store.Location;
import ferry.store.Stores;
import ferry.store.local.FileErrors;
import ferry.store.local.OpenTemps;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code ferry} command: global options and the context every sub-command shares. */
@Command(
        name = "ferry",
        mixinStandardHelpOptions = true,
        versionProvider = Ferry.Version.class,
        description = "Move ML training data between on-premises storage and object stores, as versioned datasets.",
        subcommands = {CpCommand.class, SyncCommand.class, TaskCommand.class, AgentCommand.class, LsCommand.class,
                DatasetCommand.class, MountCommand.class, CacheCommand.class, DemoCommand.class, TrainCommand.class,
                JobsCommand.class})
public final class Ferry {
    /** Exit codes: success, a failed transfer or verification, a usage error. */
    static final int OK = 0;

    static final int FAILED = 1;
    static final int USAGE = 2;

    @Option(names = "--store", paramLabel = "LOCATION",
            description = "Where datasets are kept (default: $FERRY_STORE, else $FERRY_HOME/store).")
    String store;

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces of errors (before or after the command).")
    boolean verbose;

    final Map<String, String> environment;
    final PrintWriter out;
    final PrintWriter err;
    final boolean terminal;
    final Clock clock = Clock.systemUTC();
    private Stores stores;
    private final Map<Long, Stores> storesByPartSize = new HashMap<>();

    Ferry(Map<String, String> environment, PrintWriter out, PrintWriter err, boolean terminal) {
        this.environment = environment;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public static void main(String[] args) {
        boolean terminal = System.console() != null && System.console().isTerminal();
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        AtomicBoolean ended = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            if (!ended.get() && writesData(args)) {
                OpenTemps.stop();
                err.println("ferry: stopped before it finished; nothing is left half-written under its name, and"
                        + " running the same command again takes up what is missing");
            }
        }));
        int exitCode = run(args, System.getenv(), out, err, terminal);
        ended.set(true);
        System.exit(exitCode);
    }

    /**
     * Commands that copy data, whose temporary files a stop deletes and whose user is told what a stop leaves. Not
     * mount, agent or train, whose usual end is a signal and which see to it themselves (a training job's runner still
     * writes its model then), nor those that only read.
     */
    private static boolean writesData(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--store")) {
                i++; // its value
            } else if (!args[i].startsWith("-")) {
                return List.of("cp", "sync", "dataset", "cache", "task").contains(args[i]);
            }
        }
        return false;
    }

    /** Runs one command line and returns its exit code; tests call this with their own environment. */
    static int run(String[] args, Map<String, String> environment, PrintWriter out, PrintWriter err, boolean terminal) {
        Ferry ferry = new Ferry(environment, out, err, terminal);
        CommandLine commandLine = new CommandLine(ferry);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((e, cl, parseResult) -> ferry.report(e));
        try {
            return commandLine.execute(args);
        } finally {
            ferry.closeStores();
            out.flush();
            err.flush();
        }
    }

    /** Turns an error into a message naming what is wrong and what to do, and the matching exit code. */
    private int report(Exception e) {
        Throwable error = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (verbose) {
            error.printStackTrace(err);
        }
        String message = error instanceof FileSystemException failed ? FileErrors.reason(failed)
                : error.getMessage() == null ? error.toString() : error.getMessage();
        err.println("ferry: " + message);
        if (error instanceof IllegalArgumentException || error instanceof CommandLine.PicocliException) {
            return USAGE; // a value parsed once the command runs (a duration, a size) is a usage error too
        }
        if (!(error instanceof IOException) && !(error instanceof InterruptedException) && !verbose) {
            err.println("(an unexpected error: run again with --verbose for details)");
        }
        return FAILED;
    }

    Stores stores() {
        if (stores == null) {
            stores = Stores.fromEnvironment(environment);
        }
        return stores;
    }

    /**
     * The stores with S3's part size set by a command's {@code --part-size} ({@code null}: the environment's). The
     * agent runs tasks of different part sizes in one process, so each size has its own stores, kept till the exit.
     */
    Stores stores(Long partSize) {
        if (partSize == null) {
            return stores();
        }
        return storesByPartSize.computeIfAbsent(partSize, size -> {
            Map<String, String> sized = new HashMap<>(environment);
            sized.put("FERRY_S3_PART_SIZE", Long.toString(size));
            return Stores.fromEnvironment(sized);
        });
    }

    private void closeStores() {
        List<Stores> all = new ArrayList<>(storesByPartSize.values());
        if (stores != null) {
            all.add(stores);
        }
        for (Stores each : all) {
            try {
                each.close();
            } catch (IOException e) {
                err.println("ferry: " + e.getMessage());
            }
        }
    }

    /** Ferry's own folder: $FERRY_HOME, else ~/.ferry. */
    Path home() {
        String home = environment.get("FERRY_HOME");
        if (home != null && !home.isBlank()) {
            return Path.of(home).toAbsolutePath();
        }
        String user = environment.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(user, ".ferry");
    }

    /** The store that holds datasets: --store, else $FERRY_STORE, else $FERRY_HOME/store. */
    Location storeLocation() {
        String configured = store != null ? store : environment.get("FERRY_STORE");
        if (configured != null && !configured.isBlank()) {
            return Location.of(configured).asDirectory();
        }
        return Location.of(home().resolve("store")).asDirectory();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Ferry.class.getPackage().getImplementationVersion();
            return new String[] {"ferry " + (version == null ? "development build" : version)};
        }
    }
}
