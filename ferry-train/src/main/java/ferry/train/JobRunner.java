package ferry.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.train.channel.ChannelException;
import ferry.train.channel.ChannelPlan;
import ferry.train.channel.ChannelSpec;
import ferry.train.channel.ChannelStats;
import ferry.train.channel.FastFileChannel;
import ferry.train.channel.FastFileMounts;
import ferry.train.channel.FastFilePlan;
import ferry.train.channel.FileChannel;
import ferry.train.channel.FileSystemChannel;
import ferry.train.channel.FileSystemSource;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

/**
 * Runs one training job on this machine, as SageMaker runs it on one instance: checks every location first
 * (preflight), lays out the job folder, stages File channels, mounts FastFile channels and restores checkpoints
 * (Downloading), runs the command with the SageMaker environment until it exits or is stopped (Training), unmounts
 * the FastFile channels, then uploads checkpoints, {@code model.tar.gz} and {@code output.tar.gz} (Uploading).
 * Every change is written to the job's description, every line of output to its log.
 *
 * <p>FastFile channels are served by this JVM while the process reads them. Nothing here waits on the process while
 * holding anything the mount needs, and the mounts go away after the process whatever ends the job: success,
 * failure, a stop, a failed step after mounting, or the JVM exiting.
 *
 * <p>MaxRuntimeInSeconds counts from the start of the process. When it passes, or {@code ferry jobs stop} asks,
 * the process group gets SIGTERM, then SIGKILL after the grace period; what the process saved is uploaded and the
 * job ends Stopped (secondary status MaxRuntimeExceeded or Stopped). In a simulated multi-host job only the first
 * host uploads the model and output data.
 */
public final class JobRunner {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    /** How long an exiting JVM waits, after the grace period, for a stopped job's uploads. */
    private static final Duration EXIT_UPLOAD_WAIT = Duration.ofMinutes(2);

    /**
     * How jobs run; every setting has a default ({@link #DEFAULT}).
     *
     * @param hosts the simulated hosts ({@code algo-1 ...}), or {@code null} for InstanceCount hosts
     * @param currentHost the host this run plays, or {@code null} for the first
     * @param gracePeriod between SIGTERM and SIGKILL (SageMaker gives 120 s)
     * @param pollInterval how often a stop request is looked for while the process runs
     * @param checkpointInterval how often changed checkpoints are uploaded while the process runs
     * @param isolation whether to try a private mount namespace
     * @param concurrency objects staged or uploaded at once
     * @param usableSpace free bytes of the file system holding a path (injected so tests can play a full disk)
     * @param cacheDir the chunk cache FastFile channels read through, or {@code null} for the {@code cache} folder
     *     beside the jobs folder ({@code $FERRY_HOME/cache}, where {@code ferry mount} keeps it too)
     * @param cacheBudget the cache's byte budget
     */
    public record Options(
            List<String> hosts,
            String currentHost,
            Duration gracePeriod,
            Duration pollInterval,
            Duration checkpointInterval,
            Isolation.Mode isolation,
            int concurrency,
            ToLongFunction<Path> usableSpace,
            Path cacheDir,
            long cacheBudget) {
        public static final Options DEFAULT = new Options(null, null, Duration.ofSeconds(120), Duration.ofSeconds(1),
                Duration.ofSeconds(10), Isolation.Mode.AUTO, 32, JobRunner::usableSpace, null,
                FastFileMounts.DEFAULT_CACHE_BUDGET);

        public Options {
            Objects.requireNonNull(gracePeriod, "gracePeriod is null");
            Objects.requireNonNull(pollInterval, "pollInterval is null");
            Objects.requireNonNull(checkpointInterval, "checkpointInterval is null");
            Objects.requireNonNull(isolation, "isolation is null");
            Objects.requireNonNull(usableSpace, "usableSpace is null");
            if (gracePeriod.isNegative()) {
                throw new IllegalArgumentException("the grace period must not be negative, was " + gracePeriod);
            }
            if (pollInterval.toMillis() < 1 || checkpointInterval.toMillis() < 1) {
                throw new IllegalArgumentException("poll and checkpoint intervals must be at least 1 ms");
            }
            if (cacheBudget <= 0) {
                throw new IllegalArgumentException("the FastFile cache budget must be positive, was " + cacheBudget);
            }
            if (concurrency < 1 || concurrency > 1024) {
                throw new IllegalArgumentException("concurrency must be between 1 and 1024, was " + concurrency);
            }
            if (hosts != null) {
                hosts = List.copyOf(hosts);
                String bad = hosts.stream().filter(h -> !h.matches("[A-Za-z0-9.\\-_]+")).findFirst().orElse(null);
                if (bad != null) {
                    throw new IllegalArgumentException("--hosts names the host '" + bad + "': a host name holds only"
                            + " letters, digits, '.', '-' and '_', such as algo-1");
                }
                if (hosts.isEmpty() || new LinkedHashSet<>(hosts).size() != hosts.size()) {
                    throw new IllegalArgumentException("--hosts must name distinct hosts, such as algo-1,algo-2;"
                            + " was " + hosts);
                }
            }
            if (currentHost != null && hosts != null && !hosts.contains(currentHost)) {
                throw new IllegalArgumentException("--current-host " + currentHost + " is not one of --hosts "
                        + String.join(",", hosts));
            }
        }

        public Options withHosts(List<String> hosts, String currentHost) {
            return new Options(hosts, currentHost, gracePeriod, pollInterval, checkpointInterval, isolation,
                    concurrency, usableSpace, cacheDir, cacheBudget);
        }

        public Options withGracePeriod(Duration gracePeriod) {
            return new Options(hosts, currentHost, gracePeriod, pollInterval, checkpointInterval, isolation,
                    concurrency, usableSpace, cacheDir, cacheBudget);
        }

        public Options withIntervals(Duration pollInterval, Duration checkpointInterval) {
            return new Options(hosts, currentHost, gracePeriod, pollInterval, checkpointInterval, isolation,
                    concurrency, usableSpace, cacheDir, cacheBudget);
        }

        public Options withIsolation(Isolation.Mode isolation) {
            return new Options(hosts, currentHost, gracePeriod, pollInterval, checkpointInterval, isolation,
                    concurrency, usableSpace, cacheDir, cacheBudget);
        }

        public Options withConcurrency(int concurrency) {
            return new Options(hosts, currentHost, gracePeriod, pollInterval, checkpointInterval, isolation,
                    concurrency, usableSpace, cacheDir, cacheBudget);
        }

        public Options withUsableSpace(ToLongFunction<Path> usableSpace) {
            return new Options(hosts, currentHost, gracePeriod, pollInterval, checkpointInterval, isolation,
                    concurrency, usableSpace, cacheDir, cacheBudget);
        }

        public Options withCache(Path cacheDir, long cacheBudget) {
            return new Options(hosts, currentHost, gracePeriod, pollInterval, checkpointInterval, isolation,
                    concurrency, usableSpace, cacheDir, cacheBudget);
        }
    }

    private final JobStore jobs;
    private final Stores stores;
    private final Map<String, String> environment;
    private final Clock clock;
    private final Options options;
    private final Consumer<String> output;

    /**
     * @param environment the variables the process inherits (normally the caller's own)
     * @param output hears every line of the job's log as it is written
     */
    public JobRunner(JobStore jobs, Stores stores, Map<String, String> environment, Clock clock, Options options,
            Consumer<String> output) {
        this.jobs = Objects.requireNonNull(jobs, "jobs is null");
        this.stores = Objects.requireNonNull(stores, "stores is null");
        this.environment = Map.copyOf(environment);
        this.clock = Objects.requireNonNull(clock, "clock is null");
        this.options = Objects.requireNonNull(options, "options is null");
        this.output = Objects.requireNonNull(output, "output is null");
    }

    /** What preflight found: each File and FastFile channel's plan and the checkpoints to restore. */
    private record Plan(Map<String, ChannelPlan> channels, Map<String, FastFilePlan> fastFile,
            List<ObjectInfo> checkpoints, CheckpointSync sync) {}

    /**
     * Runs the job to its end and returns its final description.
     *
     * @throws PreflightException when a location, folder or the disk is not ready (no job folder is created)
     * @throws IllegalArgumentException when a job of that name exists, or the hosts are inconsistent
     */
    public JobDescription run(TrainingRequest request) throws IOException, InterruptedException {
        Instant created = clock.instant();
        List<String> hosts = options.hosts() != null ? options.hosts() : defaultHosts(request.instanceCount());
        String currentHost = options.currentHost() != null ? options.currentHost() : hosts.getFirst();
        if (!hosts.contains(currentHost)) { // given --hosts, Options checked it already
            throw new IllegalArgumentException("--current-host " + currentHost + " is not one of the job's hosts "
                    + String.join(",", hosts) + " (ResourceConfig.InstanceCount is " + request.instanceCount()
                    + "): give one of them, or every host with --hosts");
        }
        String id = JobStore.folderName(request.name(), hosts, currentHost);
        if (jobs.exists(id)) {
            throw JobStore.alreadyExists(id);
        }
        Plan plan = preflight(request, hosts.indexOf(currentHost), hosts.size(), id);

        JobTree tree = jobs.create(id);
        tree.layOut();
        Files.write(tree.request(), JSON.writeValueAsBytes(request.document()));
        JobDescription description = JobDescription.start(request, created, tree.root().toString(), hosts,
                currentHost);
        description.write(tree.description());
        try (JobLog log = new JobLog(tree.log(), clock, output)) {
            return new Run(request, tree, description, log, hosts, currentHost, plan).run();
        }
    }

    private static List<String> defaultHosts(int count) {
        List<String> hosts = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            hosts.add("algo-" + i);
        }
        return hosts;
    }

    /** Checks everything the job will need before anything is staged, collecting every problem. */
    private Plan preflight(TrainingRequest request, int hostIndex, int hostCount, String id)
            throws IOException, InterruptedException {
        List<String> problems = new ArrayList<>();
        String program = request.command().getFirst();
        if (findExecutable(program, request.workingDirectory(), Isolation.withPath(environment).get("PATH")) == null) {
            problems.add("AlgorithmSpecification.Command: '" + program + "' is not an executable program"
                    + (program.contains("/") ? " (relative paths start in " + request.workingDirectory() + ")"
                            : " on PATH")
                    + ": install it or give its full path");
        }
        Map<String, ChannelPlan> plans = new LinkedHashMap<>();
        Map<String, FastFilePlan> fastFile = new LinkedHashMap<>();
        List<String> mounted = request.channels().stream().filter(ChannelSpec::isMounted).map(ChannelSpec::name)
                .toList();
        String fuseProblem = mounted.isEmpty() ? null : FastFileMounts.fuseProblem(environment);
        if (fuseProblem != null) {
            problems.add("channel" + (mounted.size() > 1 ? "s '" : " '") + String.join("', '", mounted) + "': "
                    + fuseProblem);
        }
        for (ChannelSpec channel : request.channels()) {
            try {
                if (channel.source() instanceof FileSystemSource fileSystem) {
                    FileSystemChannel.check(channel.name(), fileSystem);
                } else if (channel.isMounted()) {
                    fastFile.put(channel.name(), FastFilePlan.of(channel, stores, hostIndex, hostCount));
                } else {
                    plans.put(channel.name(), ChannelPlan.of(channel, stores, hostIndex, hostCount,
                            options.concurrency()));
                }
            } catch (ChannelException e) {
                problems.add(e.getMessage());
            } catch (IOException | IllegalArgumentException e) {
                problems.add("channel '" + channel.name() + "': " + e.getMessage());
            }
        }
        checkWritable(request.outputPath(), "OutputDataConfig.S3OutputPath", problems);
        List<ObjectInfo> checkpoints = List.of();
        CheckpointSync sync = null;
        if (request.checkpoint() != null) {
            Path local = jobs.tree(id).hostPath(request.checkpoint().localPath());
            try {
                if (!local.startsWith(jobs.tree(id).root()) && hasFiles(local)) {
                    // Outside the job folder it is not fresh for each job, as on SageMaker: what another job left
                    // there would be restored with this job's checkpoints and uploaded as this job's.
                    problems.add("CheckpointConfig.LocalPath " + request.checkpoint().localPath() + " already holds"
                            + " files, and being outside /opt/ml it is not made fresh for this job: empty it, or use"
                            + " a folder under /opt/ml such as " + TrainingRequest.Checkpoint.DEFAULT_LOCAL_PATH);
                }
            } catch (IOException e) {
                problems.add("CheckpointConfig.LocalPath " + request.checkpoint().localPath() + ": " + e.getMessage());
            }
            try {
                sync = new CheckpointSync(stores, request.checkpoint().uri(), local, options.concurrency());
                checkpoints = sync.list();
            } catch (IOException | IllegalArgumentException e) {
                problems.add("CheckpointConfig.S3Uri: " + e.getMessage());
            }
        }
        long needed = plans.values().stream().mapToLong(ChannelPlan::bytes).sum()
                + checkpoints.stream().mapToLong(ObjectInfo::size).sum();
        Path disk = existingAncestor(jobs.root());
        long available = options.usableSpace().applyAsLong(disk);
        if (needed > available) {
            StringBuilder detail = new StringBuilder();
            plans.values().forEach(p -> detail.append(detail.isEmpty() ? "" : ", ").append("channel '")
                    .append(p.channel()).append("' needs ").append(p.bytes()).append(" bytes"));
            if (!checkpoints.isEmpty()) {
                detail.append(detail.isEmpty() ? "" : ", ").append("checkpoints need ")
                        .append(checkpoints.stream().mapToLong(ObjectInfo::size).sum()).append(" bytes");
            }
            problems.add("not enough disk to stage the File channels: " + detail + "; " + needed + " bytes in all,"
                    + " but only " + available + " bytes are available in " + disk + ": free space, point"
                    + " FERRY_HOME at a larger disk, or use a FileSystemDataSource to read the data in place");
        }
        if (!problems.isEmpty()) {
            throw new PreflightException(request.name(), problems);
        }
        return new Plan(plans, fastFile, checkpoints, sync);
    }

    private void checkWritable(Location location, String field, List<String> problems) {
        try {
            ObjectStore store = stores.forLocation(location);
            store.list(location).hasNext(); // the store answers: endpoint, credentials and bucket are right
            if (location.isLocal()) {
                Path existing = existingAncestor(location.toPath());
                if (!Files.isDirectory(existing)) {
                    problems.add(field + ": " + existing + " is a file, not a folder: choose a location below a"
                            + " folder, or remove the file");
                } else if (!Files.isWritable(existing)) {
                    problems.add(field + ": cannot write below " + existing + ": check its owner and mode");
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            problems.add(field + ": " + e.getMessage());
        }
    }

    private static Path existingAncestor(Path path) {
        Path existing = path.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return existing == null ? Path.of("/") : existing;
    }

    static long usableSpace(Path path) {
        try {
            return Files.getFileStore(path).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // cannot tell: let the copy itself report a full disk
        }
    }

    /** The program's path: as given when it holds a '/', else the first match on PATH; {@code null} if none. */
    static Path findExecutable(String program, Path workingDirectory, String path) {
        if (program.contains("/")) {
            Path file = workingDirectory.resolve(program);
            return Files.isRegularFile(file) && Files.isExecutable(file) ? file : null;
        }
        for (String folder : (path == null ? "" : path).split(":")) {
            if (!folder.isEmpty()) {
                Path file = Path.of(folder).resolve(program);
                if (Files.isRegularFile(file) && Files.isExecutable(file)) {
                    return file;
                }
            }
        }
        return null;
    }

    /** One run of one job: the state that lives as long as the job. */
    private final class Run {
        private final TrainingRequest request;
        private final JobTree tree;
        private final JobDescription description;
        private final JobLog log;
        private final List<String> hosts;
        private final String currentHost;
        private final Plan plan;
        private final FastFileMounts mounts;
        /** The training process while it runs, for the shutdown hooks. */
        private volatile Process running;
        /** The periodic checkpoint upload under way, or the last one (it never fails: see uploadCheckpoints). */
        private CompletableFuture<Void> checkpointPass = CompletableFuture.completedFuture(null);
        /** Counted down when the job has finished, uploads and description included. */
        private final CountDownLatch finished = new CountDownLatch(1);

        Run(TrainingRequest request, JobTree tree, JobDescription description, JobLog log, List<String> hosts,
                String currentHost, Plan plan) {
            this.request = request;
            this.tree = tree;
            this.description = description;
            this.log = log;
            this.hosts = hosts;
            this.currentHost = currentHost;
            this.plan = plan;
            Path cacheDir = options.cacheDir() != null ? options.cacheDir() : jobs.root().resolveSibling("cache");
            this.mounts = new FastFileMounts(cacheDir, options.cacheBudget(), stores, environment, clock, log::note);
        }

        JobDescription run() throws IOException, InterruptedException {
            log.note("training job " + request.name() + " on host " + currentHost + " of " + String.join(",", hosts)
                    + "; job folder " + tree.root());
            if (!request.ignored().isEmpty()) {
                log.note("accepted without local meaning: " + String.join(", ", request.ignored()));
            }
            if (options.hosts() != null && request.instanceCount() != hosts.size()) {
                log.note("ResourceConfig.InstanceCount is " + request.instanceCount() + ", but " + hosts.size()
                        + " host(s) were given with --hosts: using the hosts given");
            }
            if (options.hosts() == null && hosts.size() > 1) {
                // Not refused: one host of several is a useful trial run, as long as nobody mistakes it for all.
                log.note("ResourceConfig.InstanceCount is " + hosts.size() + ", but no --hosts were given: only "
                        + currentHost + " runs here; ShardedByS3Key channels get its 1/" + hosts.size() + " share"
                        + " and SM_HOSTS lists hosts that never start. To run every host, start one ferry train per"
                        + " host with --hosts " + String.join(",", hosts) + " --current-host algo-N, or set"
                        + " InstanceCount to 1");
            }
            Isolation isolation = Isolation.probe(options.isolation(), tree.root());
            log.note(isolation.note());
            description.ferryField("Isolation", isolation.note());
            TrainingEnvironment env = new TrainingEnvironment(request, hosts, currentHost,
                    isolation.visibleRoot(tree), Runtime.getRuntime().availableProcessors(), countGpus());
            Files.write(tree.inputConfig().resolve("hyperparameters.json"),
                    JSON.writeValueAsBytes(env.hyperParameters()));
            Files.write(tree.inputConfig().resolve("inputdataconfig.json"),
                    JSON.writeValueAsBytes(env.inputDataConfig()));
            Files.write(tree.inputConfig().resolve("resourceconfig.json"),
                    JSON.writeValueAsBytes(env.resourceConfig()));

            // A JVM told to exit (Ctrl-C or SIGTERM to ferry train) stops the job as `ferry jobs stop` does and waits
            // for it to finish; whatever ends the job, FastFile channels are unmounted.
            Thread onExit = Thread.ofPlatform().name("ferry-job-exit").unstarted(this::jvmExiting);
            Runtime.getRuntime().addShutdownHook(onExit);
            try {
                return deliverTrainAndUpload(env, isolation);
            } finally {
                mounts.close();
                finished.countDown();
                removeShutdownHook(onExit);
            }
        }

        private JobDescription deliverTrainAndUpload(TrainingEnvironment env, Isolation isolation)
                throws IOException, InterruptedException {
            boolean nothingToCopy = plan.channels().isEmpty() && plan.checkpoints().isEmpty();
            transition("Downloading", !nothingToCopy ? "Downloading input data"
                    : plan.fastFile().isEmpty() ? "No File channels or checkpoints to download"
                    : "Mounting FastFile channels; nothing to download");
            try {
                download();
            } catch (IOException e) {
                log.note((plan.fastFile().isEmpty() ? "staging failed: " : "staging or mounting failed: ")
                        + e.getMessage());
                mounts.close(); // before the job's last line, which ends a follower's view of the log
                return finish(JobDescription.FAILED, JobDescription.FAILED, "Training job failed while downloading"
                        + " its input", "ClientError: " + e.getMessage());
            }

            List<String> command = new ArrayList<>(request.command());
            command.addAll(env.userArgs());
            List<Isolation.Bind> binds = new ArrayList<>();
            for (ChannelSpec channel : request.channels()) {
                if (channel.source() instanceof FileSystemSource fileSystem) {
                    binds.add(new Isolation.Bind(fileSystem.directory(), tree.channel(channel.name()),
                            fileSystem.readWrite()));
                }
            }
            List<String> argv = isolation.wrap(tree, binds, command);
            description.ferryField("Command", command);
            if (stopRequested()) { // asked while the input was staged: the algorithm never runs
                log.note("stop requested before the training started: not starting it");
                return finish(JobDescription.STOPPED, JobDescription.STOPPED, "Training job stopped", null);
            }
            transition("Training", "Training in progress: " + String.join(" ", command));
            Outcome outcome = train(argv, env.variables());
            mounts.close(); // the process is gone: nothing reads the channels any more

            if (outcome.failure() != null) { // no process ran, or its pid could not be written: no upload either
                return finish(JobDescription.FAILED, JobDescription.FAILED, "Training job failed. Reason: "
                        + outcome.failure(), outcome.failure());
            }
            transition("Uploading", "Uploading the generated model and output data");
            String failure = null;
            try {
                upload(outcome);
            } catch (IOException e) {
                log.note("upload failed: " + e.getMessage());
                failure = "ClientError: " + e.getMessage();
            }
            if (failure == null && outcome.stopCause() != null) {
                return outcome.stopCause().equals("MaxRuntimeExceeded")
                        ? finish(JobDescription.STOPPED, "MaxRuntimeExceeded",
                                "Training job runtime exceeded MaxRuntimeInSeconds provided", null)
                        : finish(JobDescription.STOPPED, JobDescription.STOPPED, "Training job stopped", null);
            }
            if (failure == null && outcome.exitCode() != 0) {
                failure = failureReason(outcome.exitCode());
            }
            if (failure != null) {
                return finish(JobDescription.FAILED, JobDescription.FAILED, "Training job failed. Reason: "
                        + failure, failure);
            }
            return finish(JobDescription.COMPLETED, JobDescription.COMPLETED, "Training job completed", null);
        }

        /** Stages, mounts and restores what the job needs, until done or until a stop is requested. */
        private void download() throws IOException, InterruptedException {
            for (ChannelSpec channel : request.channels()) {
                if (stopRequested()) {
                    return;
                }
                FastFilePlan fastFile = plan.fastFile().get(channel.name());
                if (fastFile != null) {
                    mount(fastFile);
                    continue;
                }
                ChannelPlan channelPlan = plan.channels().get(channel.name());
                if (channelPlan == null) {
                    continue;
                }
                String source = ((ferry.train.channel.S3Source) channel.source()).uri().toString();
                log.note("channel " + channel.name() + ": staging " + channelPlan.objects().size() + " file(s), "
                        + channelPlan.bytes() + " bytes from " + source
                        + (channelPlan.sharedItems() < channelPlan.totalItems()
                                ? " (" + channelPlan.sharedItems() + " of " + channelPlan.totalItems()
                                        + " items for " + currentHost + ", ShardedByS3Key)"
                                : ""));
                ChannelStats stats = FileChannel.stage(channelPlan, source, tree.channel(channel.name()), stores,
                        options.concurrency(), clock, this::stopRequested);
                description.addChannel(stats);
                description.write(tree.description());
                log.note(String.format(Locale.ROOT, "channel %s: staged %d file(s), %d bytes in %.2f s%s",
                        channel.name(), stats.files(), stats.bytes(), stats.elapsed().toMillis() / 1000.0,
                        stats.files() < channelPlan.objects().size() ? " (stop requested: staging ended)" : ""));
            }
            if (plan.sync() != null && !stopRequested()) {
                CheckpointSync.Counts restored = plan.sync().restore(plan.checkpoints());
                description.ferryField("CheckpointsRestored", Map.of("Files", restored.files(), "Bytes",
                        restored.bytes()));
                log.note("restored " + restored.files() + " checkpoint file(s), " + restored.bytes() + " bytes from "
                        + plan.sync().uri() + " into " + plan.sync().folder());
            }
        }

        /** Whether {@code ferry jobs stop} (or an interrupted {@code ferry train}) asked the job to stop. */
        private boolean stopRequested() {
            return Files.exists(tree.stopRequest());
        }

        private void mount(FastFilePlan fastFile) throws IOException {
            FastFileChannel mounted = mounts.mount(fastFile, tree.channel(fastFile.channel()));
            log.note(String.format(Locale.ROOT, "channel %s: mounted %s at %s in %.2f s (FastFile: files are read on"
                    + " demand through the cache in %s)%s", fastFile.channel(), fastFile.source(),
                    mounted.mountPoint(), mounted.elapsed().toMillis() / 1000.0, mounts.cacheDir(),
                    fastFile.sharedItems() >= 0 && fastFile.sharedItems() < fastFile.totalItems()
                            ? "; " + fastFile.sharedItems() + " of " + fastFile.totalItems() + " objects for "
                                    + currentHost + ", ShardedByS3Key"
                            : ""));
        }

        /**
         * The shutdown hook's unmount: the hook that stops the process runs at the same time, so let the process end
         * first (it is given at most the 10 s that hook waits), and then take its channels away.
         */
        /**
         * The JVM is going down (Ctrl-C or SIGTERM to ferry train): the job is stopped as `ferry jobs stop` stops it
         * (SIGTERM to its process group, SIGKILL after the grace period), then uploads what the script saved and
         * records Stopped, on its own thread; the JVM waits for that, at most the grace period and two minutes. A job
         * still running after that is killed and recorded Stopped here, without its uploads.
         */
        private void jvmExiting() {
            Process process = running;
            if (finished.getCount() > 0) {
                log.note("ferry train was interrupted: stopping the job");
                try {
                    Files.writeString(tree.stopRequest(), clock.instant() + " ferry train was interrupted\n",
                            StandardCharsets.UTF_8);
                } catch (IOException e) {
                    if (process != null) {
                        Signals.group(process.pid(), "TERM");
                    }
                }
            }
            try {
                if (finished.await(options.gracePeriod().plus(EXIT_UPLOAD_WAIT).toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = running;
            if (process != null) {
                Signals.group(process.pid(), "KILL");
            }
            mounts.close(); // after the process, so that it never reads a channel that is going away
            try {
                description.finish(JobDescription.STOPPED, JobDescription.STOPPED,
                        "Training job stopped: ferry train was interrupted", null, clock.instant());
                description.write(tree.description());
            } catch (IOException e) {
                // the JVM is exiting; the description stays InProgress and jobs ls shows the runner gone
            }
        }

        private void removeShutdownHook(Thread hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is running
            }
        }

        /** How the process ended; {@code failure} is set when Ferry itself had to end it. */
        private record Outcome(int exitCode, String stopCause, String failure) {}

        private Outcome train(List<String> argv, Map<String, String> variables)
                throws IOException, InterruptedException {
            ProcessBuilder builder = new ProcessBuilder(argv).directory(request.workingDirectory().toFile())
                    .redirectErrorStream(true);
            Map<String, String> processEnv = builder.environment();
            processEnv.clear();
            processEnv.putAll(Isolation.withPath(environment));
            request.environment().forEach((name, value) -> {
                if (variables.containsKey(name)) {
                    log.note("Environment." + name + " is set by Ferry as SageMaker sets it; the request's value is"
                            + " not used");
                } else {
                    processEnv.put(name, value);
                }
            });
            processEnv.putAll(variables);

            List<CompletableFuture<ChannelStats>> fileSystemStats = new ArrayList<>();
            for (ChannelSpec channel : request.channels()) {
                if (channel.source() instanceof FileSystemSource source) {
                    fileSystemStats.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return FileSystemChannel.stats(channel.name(), source);
                        } catch (IOException e) {
                            return new ChannelStats(channel.name(), "FileSystem", source.directory().toString(), 0,
                                    0, Duration.ZERO);
                        }
                    }, Thread::startVirtualThread));
                }
            }
            // A live prefix is listed beside the training, as a FileSystem folder is walked: the job never waits.
            Map<FastFileChannel, CompletableFuture<FastFileChannel.Totals>> fastFileTotals = new LinkedHashMap<>();
            for (FastFileChannel channel : mounts.channels()) {
                fastFileTotals.put(channel, CompletableFuture.supplyAsync(() -> {
                    try {
                        return channel.offered();
                    } catch (IOException e) {
                        log.note("channel " + channel.channel() + ": cannot list what it offers: " + e.getMessage());
                        return new FastFileChannel.Totals(0, 0);
                    }
                }, Thread::startVirtualThread));
            }

            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                log.note("cannot start " + argv.getFirst() + ": " + e.getMessage());
                return new Outcome(127, null, "ClientError: cannot start the training process: " + e.getMessage());
            }
            running = process;
            try {
                JobStore.writePid(tree.processPid(), process.toHandle());
                description.ferryField("ProcessId", process.pid());
                description.write(tree.description());
            } catch (IOException | RuntimeException e) {
                // Unrecorded (a full disk), jobs stop could not find it and nothing would end it: it goes now.
                Signals.group(process.pid(), "KILL");
                process.waitFor();
                log.note("cannot record the training process (" + e.getMessage() + "): the training process was"
                        + " killed; free space in " + tree.root() + " and run the job again");
                return new Outcome(process.exitValue(), null, "ClientError: cannot record the training process: "
                        + e.getMessage());
            }
            Thread reader = Thread.ofPlatform().daemon().name("ferry-job-output").start(() -> copyOutput(process));
            String stopCause;
            try {
                stopCause = supervise(process);
            } finally {
                // Whatever the script left behind in its process group goes with it, as with a container.
                Signals.group(process.pid(), "KILL");
                reader.join(Duration.ofSeconds(10));
            }
            int exitCode = process.exitValue();
            log.note("the process exited with code " + exitCode + (exitCode > 128 && exitCode < 160
                    ? " (signal " + (exitCode - 128) + ")" : ""));
            description.ferryField("ExitCode", exitCode);
            for (CompletableFuture<ChannelStats> stats : fileSystemStats) {
                description.addChannel(stats.join());
            }
            fastFileTotals.forEach((channel, totals) -> {
                ChannelStats stats = channel.stats(totals.join());
                description.addChannel(stats);
                log.note("channel " + stats.channel() + ": " + stats.bytesFetched() + " bytes fetched from "
                        + stats.source() + " (the rest came from the cache or was not read)");
            });
            return new Outcome(exitCode, stopCause, null);
        }

        /** Waits for the process, enforcing the run-time limit and stop requests and uploading checkpoints. */
        private String supervise(Process process) throws InterruptedException {
            Instant deadline = clock.instant().plus(request.maxRuntime());
            Instant nextCheckpoint = clock.instant().plus(options.checkpointInterval());
            Instant killAt = null;
            boolean killed = false;
            String stopCause = null;
            while (true) {
                Instant now = clock.instant();
                Instant wake = earliest(now.plus(options.pollInterval()), stopCause == null ? deadline : null,
                        plan.sync() != null ? nextCheckpoint : null, killed ? null : killAt);
                long millis = Math.max(1, Duration.between(now, wake).toMillis());
                if (process.waitFor(millis, TimeUnit.MILLISECONDS)) {
                    // a process that ended by itself just after a stop was asked: the job still ends Stopped
                    return stopCause == null && Files.exists(tree.stopRequest()) ? "Stopped" : stopCause;
                }
                now = clock.instant();
                if (stopCause == null) {
                    if (Files.exists(tree.stopRequest())) {
                        stopCause = "Stopped";
                        recordStopping();
                        log.note("stop requested: SIGTERM to the process group, SIGKILL in "
                                + options.gracePeriod().toSeconds() + " s if it is still running");
                    } else if (!now.isBefore(deadline)) {
                        stopCause = "MaxRuntimeExceeded";
                        recordStopping();
                        log.note("MaxRuntimeInSeconds (" + request.maxRuntime().toSeconds() + ") reached: SIGTERM to"
                                + " the process group, SIGKILL in " + options.gracePeriod().toSeconds() + " s if it"
                                + " is still running");
                    }
                    if (stopCause != null) {
                        Signals.group(process.pid(), "TERM");
                        killAt = now.plus(options.gracePeriod());
                    }
                } else if (!killed && !now.isBefore(killAt)) {
                    log.note("the grace period is over: SIGKILL to the process group");
                    Signals.group(process.pid(), "KILL");
                    killed = true;
                }
                if (plan.sync() != null && !now.isBefore(nextCheckpoint) && checkpointPass.isDone()) {
                    // On its own thread: a large checkpoint must not hold up the deadline, a stop or the SIGKILL.
                    checkpointPass = CompletableFuture.runAsync(this::uploadCheckpoints, Thread::startVirtualThread);
                    nextCheckpoint = clock.instant().plus(options.checkpointInterval());
                }
            }
        }

        private void recordStopping() {
            description.stopping(clock.instant());
            try {
                description.write(tree.description());
            } catch (IOException e) {
                log.note("cannot record the status Stopping: " + e.getMessage()); // the stop goes on all the same
            }
        }

        private Instant earliest(Instant... instants) {
            Instant earliest = null;
            for (Instant instant : instants) {
                if (instant != null && (earliest == null || instant.isBefore(earliest))) {
                    earliest = instant;
                }
            }
            return earliest;
        }

        private void copyOutput(Process process) {
            var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE);
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), decoder))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    log.process(line);
                }
            } catch (IOException e) {
                log.note("reading the process's output failed: " + e.getMessage());
            }
        }

        private void uploadCheckpoints() {
            try {
                CheckpointSync.Counts counts = plan.sync().upload();
                if (counts.files() > 0) {
                    log.note("uploaded " + counts.files() + " changed checkpoint file(s), " + counts.bytes()
                            + " bytes to " + plan.sync().uri());
                }
                notePassedOver(counts);
            } catch (IOException | RuntimeException e) { // never the job's failure: the next pass tries again
                log.note("checkpoint upload failed (will retry): " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void notePassedOver(CheckpointSync.Counts counts) {
            counts.passedOver().forEach(p -> log.note("checkpoint " + p.key() + " not uploaded: it is " + p.what()));
        }

        private void upload(Outcome outcome) throws IOException, InterruptedException {
            if (plan.sync() != null) {
                checkpointPass.join(); // the last periodic pass ends before the final one starts
                CheckpointSync.Counts counts = plan.sync().upload();
                log.note("uploaded " + counts.files() + " changed checkpoint file(s), " + counts.bytes()
                        + " bytes to " + plan.sync().uri());
                notePassedOver(counts);
            }
            boolean failed = outcome.stopCause() == null && outcome.exitCode() != 0;
            if (failed) {
                log.note("the job failed: the model and output data are not uploaded");
                return;
            }
            if (!currentHost.equals(hosts.getFirst())) {
                log.note("host " + currentHost + " is not the first host (" + hosts.getFirst()
                        + "): only the first host uploads the model and output data");
                return;
            }
            Location base = request.outputPath().resolve(request.name() + "/output/");
            Location model = base.resolve("model.tar.gz");
            long modelBytes = pack(tree.model(), model);
            description.modelArtifacts(model.toString());
            Map<String, Object> artifacts = new LinkedHashMap<>();
            artifacts.put("Model", model.toString());
            log.note("uploaded " + model + " (" + modelBytes + " bytes of model files)");
            if (hasFiles(tree.outputData())) {
                Location data = base.resolve("output.tar.gz");
                long dataBytes = pack(tree.outputData(), data);
                artifacts.put("Output", data.toString());
                log.note("uploaded " + data + " (" + dataBytes + " bytes of output data)");
            }
            description.ferryField("OutputArtifacts", artifacts);
        }

        private long pack(Path folder, Location target) throws IOException {
            try (ObjectOutput out = stores.forLocation(target).createOrOverwrite(target, WriteOptions.DEFAULT)) {
                long bytes = TarGz.write(folder, out,
                        p -> log.note(target.name() + ": " + p.key() + " left out: it is " + p.what()));
                out.commit();
                return bytes;
            } catch (IOException e) {
                throw new IOException("cannot upload " + target + ": " + e.getMessage(), e);
            }
        }

        private String failureReason(int exitCode) throws IOException {
            if (Files.isRegularFile(tree.failure())) {
                String text = Files.readString(tree.failure(), StandardCharsets.UTF_8).strip();
                if (!text.isEmpty()) {
                    return limit("AlgorithmError: " + text);
                }
            }
            List<String> tail = log.tail();
            List<String> last = tail.subList(Math.max(0, tail.size() - 5), tail.size());
            return limit("AlgorithmError: the process exited with code " + exitCode
                    + (last.isEmpty() ? " and printed nothing" : "; its last lines: " + String.join(" | ", last)));
        }

        private static String limit(String reason) {
            return reason.length() <= 1024 ? reason : reason.substring(0, 1021) + "...";
        }

        private void transition(String status, String message) throws IOException {
            description.transition(status, message, clock.instant());
            description.write(tree.description());
            log.note(status + ": " + message);
        }

        private JobDescription finish(String status, String secondary, String message, String failureReason)
                throws IOException {
            description.finish(status, secondary, message, failureReason, clock.instant());
            Map<String, Double> phases = description.phaseSeconds();
            StringBuilder line = new StringBuilder(status + " (" + secondary + ")");
            phases.forEach((phase, seconds) -> line.append(String.format(Locale.ROOT, ", %s %.2f s", phase, seconds)));
            // The log's last line comes before the final description: a follower stops once it sees the job ended.
            log.note(line.toString());
            description.write(tree.description());
            return description;
        }
    }

    private static boolean hasFiles(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return false;
        }
        try (var stream = Files.list(folder)) {
            return stream.findAny().isPresent();
        }
    }

    private static int countGpus() {
        try (var devices = Files.list(Path.of("/dev"))) {
            return (int) devices.filter(p -> p.getFileName().toString().matches("nvidia[0-9]+")).count();
        } catch (IOException e) {
            return 0;
        }
    }
}
