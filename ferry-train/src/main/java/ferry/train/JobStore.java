package ferry.train;

import ferry.train.channel.MountTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The jobs of one Ferry home: one folder per job under {@code $FERRY_HOME/jobs/}, named after the job
 * ({@code <name>@<host>} when one host of several is simulated). A job's own folder holds everything known about it,
 * so listing jobs is listing folders.
 */
public final class JobStore {
    private static final Pattern FOLDER = Pattern.compile("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}(@[A-Za-z0-9.\\-_]+)?");

    private final Path root;
    private final Clock clock;

    public JobStore(Path root, Clock clock) {
        this.root = root.toAbsolutePath().normalize();
        this.clock = clock;
    }

    public Path root() {
        return root;
    }

    /** A job as found on disk. */
    public record Job(String id, JobTree tree, JobDescription description, boolean running) {}

    /** The folder a job's host uses: the job's name, or {@code name@host} for one host of several. */
    static String folderName(String name, List<String> hosts, String currentHost) {
        return hosts.size() == 1 ? name : name + "@" + currentHost;
    }

    JobTree tree(String id) {
        return new JobTree(root.resolve(check(id)));
    }

    boolean exists(String id) {
        return Files.exists(root.resolve(check(id)));
    }

    /**
     * Claims a new job folder, atomically: two runs can never share one. The calling process is recorded as the
     * job's runner at once, before the description exists, so that jobs rm sees a live runner from the start.
     */
    JobTree create(String id) throws IOException {
        Files.createDirectories(root);
        try {
            Files.createDirectory(root.resolve(check(id)));
        } catch (FileAlreadyExistsException e) {
            throw alreadyExists(id);
        }
        JobTree tree = tree(id);
        Files.createDirectory(tree.ferry()); // not createDirectories: a folder removed meanwhile is not made again
        writeRunnerPid(tree);
        return tree;
    }

    static IllegalArgumentException alreadyExists(String id) {
        return new IllegalArgumentException("a training job named '" + id + "' already exists: give the request"
                + " another TrainingJobName, or remove the old job with: ferry jobs rm " + id);
    }

    /** Every job, oldest first. */
    public List<Job> list() throws IOException {
        List<Job> jobs = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return jobs;
        }
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(root)) {
            for (Path folder : folders) {
                String id = folder.getFileName().toString();
                if (FOLDER.matcher(id).matches() && Files.exists(new JobTree(folder).description())) {
                    try {
                        jobs.add(job(id));
                    } catch (IOException e) {
                        // a job folder being created or removed right now: leave it out of the listing
                    }
                }
            }
        }
        jobs.sort(Comparator.comparing((Job job) -> job.description().creationTime()).thenComparing(Job::id));
        return jobs;
    }

    /** One job, with its liveness checked: a job whose runner is gone is shown as stopped. */
    public Job get(String id) throws IOException {
        return job(id);
    }

    private Job job(String id) throws IOException {
        JobTree tree = tree(id);
        JobDescription description;
        try {
            description = JobDescription.read(tree.description());
        } catch (NoSuchFileException e) {
            throw missing(id);
        }
        boolean running = !description.isFinished() && runnerAlive(tree);
        if (!description.isFinished() && !running) {
            Optional<Long> orphan = livePid(tree.processPid());
            description = description.abandoned("The job's runner (ferry train) ended without finishing the job"
                    + orphan.map(pid -> "; its training process " + pid + " still runs: ferry jobs stop " + id
                            + " ends it").orElse(""), clock.instant());
        }
        return new Job(id, tree, description, running);
    }

    /** The log file of a job. */
    public Path log(String id) throws IOException {
        JobTree tree = tree(id);
        if (!Files.exists(tree.log())) {
            throw missing(id);
        }
        return tree.log();
    }

    /**
     * Asks a running job to stop: its runner sends SIGTERM to the process group, then SIGKILL after the grace
     * period, uploads what the process saved and marks the job Stopped. SIGTERM is sent once, by the runner alone,
     * as SageMaker sends it: a second one would enter the script's handler again while it saves the model. If the
     * runner itself is gone, the process group is signalled from here.
     *
     * @return false if the job had already ended
     */
    public boolean stop(String id) throws IOException {
        JobTree tree = tree(id);
        JobDescription recorded;
        try {
            recorded = JobDescription.read(tree.description());
        } catch (NoSuchFileException e) {
            throw missing(id);
        }
        if (recorded.isFinished()) {
            return false;
        }
        Files.writeString(tree.stopRequest(), clock.instant() + "\n", StandardCharsets.UTF_8);
        if (!runnerAlive(tree)) {
            // Nobody is left to finish the job: end what remains of its processes and record it here.
            Optional<Long> pid = livePid(tree.processPid());
            pid.ifPresent(p -> Signals.group(p, "TERM"));
            pid.ifPresent(p -> Signals.group(p, "KILL"));
            awaitEnd(tree.processPid());
            recorded.abandoned("Training job stopped; its runner (ferry train) had already ended", clock.instant())
                    .write(tree.description());
        }
        return true;
    }

    /**
     * Removes a finished job's folder; a running job must be stopped first. A FastFile channel still mounted in it
     * (its runner was killed before it could unmount) is detached first, rather than walked into.
     */
    public void delete(String id) throws IOException {
        Path folder = root.resolve(check(id));
        if (!Files.exists(folder)) {
            throw missing(id);
        }
        JobTree tree = new JobTree(folder);
        // Without a description the job is starting: its runner has created the folder and not yet written it.
        boolean starting = !Files.exists(tree.description());
        if (starting && runnerAlive(tree)) {
            throw new IllegalStateException("job '" + id + "' is starting (its runner, ferry train, is alive): stop"
                    + " it with ferry jobs stop " + id + " once it shows in ferry jobs ls, then remove it");
        }
        if (!starting && (job(id).running() || livePid(tree.processPid()).isPresent())) {
            // A training process whose runner was killed still runs: removing its folder would lose the record
            // that lets jobs stop end it.
            throw new IllegalStateException("job '" + id + "' is still running: stop it first with: ferry jobs stop "
                    + id);
        }
        MountTable.detachAllUnder(folder);
        Files.walkFileTree(folder, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private boolean runnerAlive(JobTree tree) throws IOException {
        return livePid(tree.runnerPid()).isPresent();
    }

    /**
     * The pid recorded in {@code file} ("pid start-time"), if that process still runs. A pid can be reused, so the
     * start time recorded with it must match: a stop never signals a stranger.
     */
    static Optional<Long> livePid(Path file) throws IOException {
        String[] parts;
        try {
            parts = Files.readString(file, StandardCharsets.UTF_8).trim().split("\\s+");
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(parts[0]);
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isEmpty() || !handle.get().isAlive() || zombie(pid)) {
                return Optional.empty();
            }
            Optional<Instant> started = handle.get().info().startInstant();
            boolean same = parts.length < 2 || started.isEmpty() || started.get().toString().equals(parts[1]);
            return same ? Optional.of(pid) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Waits (a few seconds at most) for a killed process to be gone, so that what follows sees it gone. */
    private static void awaitEnd(Path pidFile) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (livePid(pidFile).isPresent() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Whether a process has exited but not been reaped yet (Linux: state Z in /proc). An orphaned training process
     * killed by jobs stop can stay one until the system's init gets to it; it runs no more.
     */
    private static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int end = stat.lastIndexOf(')');
            return end > 0 && end + 2 < stat.length() && "ZX".indexOf(stat.charAt(end + 2)) >= 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Records a process's pid with its start time. */
    static void writePid(Path file, ProcessHandle process) throws IOException {
        String started = process.info().startInstant().map(Instant::toString).orElse("");
        Files.writeString(file, (process.pid() + " " + started).trim() + "\n", StandardCharsets.UTF_8);
    }

    /** Records the current process as the job's runner. */
    static void writeRunnerPid(JobTree tree) throws IOException {
        writePid(tree.runnerPid(), ProcessHandle.current());
    }

    private static String check(String id) {
        if (id == null || !FOLDER.matcher(id).matches()) {
            throw new IllegalArgumentException("'" + id + "' is not a training job name: use the TrainingJobName,"
                    + " such as my-job (or my-job@algo-2 for one host of several)");
        }
        return id;
    }

    /** There is no job of that name; the hosts of a multi-host job of that name, if any, are named instead. */
    private NoSuchJobException missing(String id) {
        List<String> hosts = new ArrayList<>();
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(root)) {
            for (Path folder : folders) {
                if (folder.getFileName().toString().startsWith(id + "@")) {
                    hosts.add(folder.getFileName().toString());
                }
            }
        } catch (IOException e) {
            // no jobs at all
        }
        hosts.sort(null);
        return new NoSuchJobException(id, root, hosts);
    }

    /** There is no job of that name. */
    public static final class NoSuchJobException extends IOException {
        NoSuchJobException(String id, Path root, List<String> hosts) {
            super("no training job named '" + id + "' in " + root + (hosts.isEmpty()
                    ? ": see the jobs with: ferry jobs ls"
                    : ": it ran as one host of several, give one: " + String.join(", ", hosts)));
        }
    }
}
