package ferry.cli;

import ferry.cache.ChunkCache;
import ferry.train.Isolation;
import ferry.train.JobDescription;
import ferry.train.JobRunner;
import ferry.train.JobStore;
import ferry.train.RequestParser;
import ferry.train.TrainingRequest;
import ferry.train.channel.ChannelSpec;
import ferry.train.channel.FastFileMounts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Run a SageMaker training job on this machine, from a CreateTrainingJob request (JSON or YAML).",
                "AlgorithmSpecification.Command names the process to run (it replaces the container image); the"
                        + " script sees /opt/ml and the SM_* environment as on SageMaker. File channels are staged"
                        + " first, FastFile channels are mounted and read on demand through the cache in"
                        + " $FERRY_HOME/cache (as ferry mount), FileSystem channels are read in place; model/ becomes"
                        + " <S3OutputPath>/<job>/output/model.tar.gz.",
                "Relative paths in the request start in its folder, where the process also starts; locations may use"
                        + " $${VAR} ($${FERRY_HOME} is always known).",
                "Exit codes: 0 Completed, 1 Failed or Stopped (or a location that does not answer), 2 a malformed"
                        + " request; stopped by a signal (Ctrl-C, SIGTERM), 128 + its number (130, 143), as any"
                        + " process, once the job is recorded Stopped.",
                "Example:  ferry train examples/pytorch-cifar10/job.json"})
final class TrainCommand implements Callable<Integer> {
    @ParentCommand
    Ferry ferry;

    @Parameters(paramLabel = "REQUEST", description = "The request file: JSON, or YAML when it ends in .yaml/.yml.")
    Path request;

    @Option(names = "--hosts", split = ",", paramLabel = "HOST",
            description = "Simulate a multi-host job: every host, such as algo-1,algo-2 (default: algo-1 ..."
                    + " algo-<InstanceCount>). Run once per host; ShardedByS3Key gives each its share.")
    List<String> hosts;

    @Option(names = "--current-host", paramLabel = "HOST",
            description = "The host this run plays (default: the first).")
    String currentHost;

    @Option(names = "--grace-period", paramLabel = "SECONDS", defaultValue = "120",
            description = "Seconds between SIGTERM and SIGKILL when the job is stopped (default: ${DEFAULT-VALUE},"
                    + " as SageMaker).")
    long gracePeriod;

    @Option(names = "--cache-size", paramLabel = "SIZE", converter = Sizes.Bytes.class,
            description = "The FastFile channels' cache budget (default: the one it was last given, else 10GiB, as"
                    + " ferry mount).")
    Long cacheSize;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "The FastFile channels' cache folder (default: $FERRY_HOME/cache, as ferry mount).")
    Path cacheDir;

    @Option(names = {"-q", "--quiet"}, description = "Do not print the job's log as it runs.")
    boolean quiet;

    @Option(names = "--json", description = "Print the final description as JSON (and not the log).")
    boolean json;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (gracePeriod < 0) {
            throw new IllegalArgumentException("--grace-period must not be negative, was " + gracePeriod);
        }
        Path cache = cacheDir != null ? cacheDir : ferry.home().resolve("cache");
        long budget = Sizes.cacheBudget(cacheSize, cache);
        TrainingRequest parsed = parser(ferry).parse(request);
        if (parsed.channels().stream().anyMatch(ChannelSpec::isMounted)) {
            // The job opens the cache at its first FastFile channel: refuse a wrong folder before the job starts.
            ChunkCache.checkFolder(cache);
        }
        JobRunner.Options options = options(ferry).withGracePeriod(Duration.ofSeconds(gracePeriod))
                .withHosts(hosts, currentHost)
                .withCache(cache, budget);
        boolean echo = !quiet && !json;
        JobDescription job = new JobRunner(jobs(ferry), ferry.stores(), ferry.environment, ferry.clock, options,
                line -> {
                    if (echo) {
                        ferry.out.println(line);
                    }
                }).run(parsed);
        if (json) {
            Json.print(ferry.out, job.json());
        } else {
            printSummary(ferry, job);
        }
        return job.status().equals(JobDescription.COMPLETED) ? Ferry.OK : Ferry.FAILED;
    }

    static RequestParser parser(Ferry ferry) {
        return new RequestParser(ferry.environment, ferry.home());
    }

    static JobStore jobs(Ferry ferry) {
        return new JobStore(ferry.home().resolve("jobs"), ferry.clock);
    }

    /**
     * Defaults, with FERRY_TRAIN_NAMESPACE=off to run without a private mount namespace; FastFile channels read
     * through the cache {@code ferry mount} and {@code ferry cache} use.
     */
    static JobRunner.Options options(Ferry ferry) {
        String namespace = ferry.environment.getOrDefault("FERRY_TRAIN_NAMESPACE", "auto").toLowerCase(Locale.ROOT);
        Isolation.Mode mode = switch (namespace) {
            case "auto", "", "on" -> Isolation.Mode.AUTO;
            case "off" -> Isolation.Mode.OFF;
            default -> throw new IllegalArgumentException("FERRY_TRAIN_NAMESPACE must be auto or off, was "
                    + namespace);
        };
        return JobRunner.Options.DEFAULT.withIsolation(mode)
                .withCache(ferry.home().resolve("cache"), FastFileMounts.DEFAULT_CACHE_BUDGET);
    }

    static void printSummary(Ferry ferry, JobDescription job) {
        ferry.out.println();
        ferry.out.println("training job " + job.name() + ": " + job.status() + " (" + job.secondaryStatus() + ")");
        if (job.failureReason() != null) {
            ferry.out.println("  reason:  " + job.failureReason());
        }
        Map<String, Double> phases = job.phaseSeconds();
        phases.forEach((phase, seconds) -> ferry.out.printf(Locale.ROOT, "  %-12s %8.2f s%n", phase, seconds));
        ferry.out.printf(Locale.ROOT, "  %-12s %8.2f s  (waiting for data before training)%n", "before",
                phases.get("Starting") + phases.get("Downloading"));
        if (job.modelArtifacts() != null) {
            ferry.out.println("  model:   " + job.modelArtifacts());
        }
        ferry.out.println("  more:    ferry jobs describe " + job.id() + "    ferry jobs logs " + job.id());
    }
}
