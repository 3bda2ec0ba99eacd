package ferry.cli;

import ferry.dataset.DatasetCatalog;
import ferry.dataset.DatasetRef;
import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.time.Ticker;
import ferry.transfer.Filter;
import ferry.transfer.SyncReport;
import ferry.transfer.Syncer;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "sync", mixinStandardHelpOptions = true,
        description = {"Make DESTINATION hold what SOURCE holds, sending only what is new or changed.",
                "Objects are compared by size and CRC32C (a re-sync knows unchanged objects from the state the last"
                        + " run recorded, without reading them). Listings stream; transfers run in parallel; a run"
                        + " killed half way resumes where it stopped. --delete removes destination objects the source"
                        + " lacks, and only after every transfer of the run succeeded.",
                "Examples:  ferry sync /nfs/datasets/cifar s3://ml-data/cifar/ --delete --exclude '*.tmp'",
                "           ferry sync s3://ml-data/cifar/ /scratch/cifar/ --dry-run --json"})
final class SyncCommand implements Callable<Integer> {
    @ParentCommand
    Ferry ferry;

    @Parameters(index = "0", paramLabel = "SOURCE", description = "A folder or prefix: path, file:///path or s3://.")
    String source;

    @Parameters(index = "1", paramLabel = "DESTINATION", description = "A folder or prefix.")
    String destination;

    @Mixin
    SyncOptions options;

    @Option(names = "--dataset", paramLabel = "NAME",
            description = "After a successful sync, record the destination as the next version of this dataset"
                    + " (using the checksums the sync computed, without reading the data again).")
    String dataset;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (dataset != null) {
            DatasetRef.checkName(dataset);
            if (options.dryRun) {
                throw new IllegalArgumentException("--dataset records what a sync wrote, so it cannot go with --dry-run");
            }
        }
        Location from = Location.of(source);
        Location to = Location.of(destination);
        SyncReport report = run(ferry, from, to, options);
        Manifest manifest = null;
        if (dataset != null && report.succeeded()) {
            Syncer syncer = syncer(ferry, options.partSize);
            DatasetCatalog catalog = new DatasetCatalog(ferry.stores(), ferry.storeLocation(), ferry.clock,
                    options.concurrency);
            var known = syncer.recordedChecksums(from, to);
            try (Progress progress = Progress.start(ferry, "recorded")) {
                manifest = catalog.create(dataset, to, false, known::apply, progress);
            }
        }
        if (json) {
            Map<String, Object> out = toJson(report);
            if (manifest != null) {
                out.put("dataset", manifest.ref().toString());
            }
            Json.print(ferry.out, out);
        } else {
            print(ferry, report, false);
            if (manifest != null) {
                ferry.out.println("recorded dataset " + manifest.ref() + " (" + Units.count(manifest.summary().objects())
                        + " objects, " + Units.bytes(manifest.summary().bytes()) + ")");
            }
        }
        if (dataset != null && !report.succeeded()) {
            ferry.err.println("no dataset version recorded, because the sync did not succeed");
        }
        return report.succeeded() ? Ferry.OK : Ferry.FAILED;
    }

    static final String PART_SIZE_HELP = "The part of S3 multipart uploads and of reads in parts (5MiB to 1GiB;"
            + " default: FERRY_S3_PART_SIZE, else 8MiB). Objects over FERRY_S3_UPLOAD_CUTOFF (200MiB) go in parts.";

    static final String FOLLOW_LINKS_HELP = "Walk into a local source's symbolic links to folders and copy what they"
            + " hold, under the link's name (a link back into a folder that holds it, or into the destination, is"
            + " passed over). Without it they are passed over and named; links to files are always followed.";

    static Syncer syncer(Ferry ferry, Long partSize) {
        return new Syncer(ferry.stores(partSize), ferry.home().resolve("sync"), ferry.clock, Ticker.SYSTEM);
    }

    static SyncReport run(Ferry ferry, Location source, Location destination, SyncOptions options)
            throws IOException, InterruptedException {
        Syncer syncer = syncer(ferry, options.partSize);
        try (Progress progress = Progress.start(ferry, options.dryRun ? "planned" : "synced")) {
            return syncer.sync(source, destination, options.toOptions(ferry.clock.instant()), progress);
        }
    }

    static void print(Ferry ferry, SyncReport report, boolean json) {
        if (json) {
            Json.print(ferry.out, toJson(report));
            return;
        }
        if (report.dryRun()) {
            for (SyncReport.Action action : report.plan()) {
                ferry.out.printf("%-7s %12d  %s  (%s)%n", action.action(), action.size(), Escapes.name(action.key()),
                        action.reason());
            }
        }
        ferry.out.printf("%s %s -> %s: %s %s objects (%s), skipped %s unchanged (%s)%s, %s %s, %d failed, in %s"
                        + " (%s/s)%n",
                report.dryRun() ? "dry run of" : "synced", report.source(), report.destination(),
                report.dryRun() ? "would copy" : "copied", Units.count(report.copied().objects()),
                Units.bytes(report.copied().bytes()), Units.count(report.skipped().objects()),
                Units.bytes(report.skipped().bytes()),
                report.leftOut() == 0 ? "" : ", left out " + Units.count(report.leftOut()) + " by the filters",
                report.dryRun() ? "would delete" : "deleted",
                Units.count(report.deleted().objects()), report.failures().size(), Units.seconds(report.elapsed()),
                Units.bytes(report.bytesPerSecond()));
        CpCommand.printFailures(ferry, report.failures());
        if (report.deletesWithheld() > 0) {
            ferry.err.println("not deleted: " + Units.count(report.deletesWithheld())
                    + " object(s), because transfers failed (a failed run deletes nothing); fix and run again");
        }
    }

    static Map<String, Object> toJson(SyncReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("source", report.source());
        json.put("destination", report.destination());
        json.put("dryRun", report.dryRun());
        json.put("ok", report.succeeded());
        json.put("copied", report.copied());
        json.put("skipped", report.skipped());
        json.put("leftOut", report.leftOut());
        json.put("deleted", report.deleted().objects());
        json.put("failed", report.failures().size());
        json.put("failures", report.failures());
        json.put("passedOver", report.passedOver());
        json.put("deletesWithheld", report.deletesWithheld());
        json.put("seconds", Units.secondsOf(report.elapsed()));
        json.put("bytesPerSecond", Math.round(report.bytesPerSecond()));
        if (report.dryRun()) {
            json.put("plan", report.plan());
        }
        return json;
    }

    /** The options of a sync, shared by {@code sync} and {@code task add}. */
    static final class SyncOptions {
        @Option(names = "--delete", description = "Delete destination objects the source does not have (only after"
                + " every transfer succeeded).")
        boolean delete;

        @Option(names = {"-n", "--dry-run"}, description = "Show what would be done; change nothing.")
        boolean dryRun;

        @Option(names = "--include", paramLabel = "GLOB", description = "Take only matching keys (repeatable)."
                + " A glob without '/' matches file names at any depth; with '/', the whole key.")
        List<String> includes = new ArrayList<>();

        @Option(names = "--exclude", paramLabel = "GLOB", description = "Leave out matching keys (repeatable).")
        List<String> excludes = new ArrayList<>();

        @Option(names = "--min-size", paramLabel = "SIZE", converter = Sizes.Bytes.class,
                description = "Copy only source objects at least this big (512, 10MB, 64MiB); --delete still keeps"
                        + " what the source has of other sizes.")
        long minSize;

        @Option(names = "--max-size", paramLabel = "SIZE", converter = Sizes.Bytes.class,
                description = "Copy only source objects at most this big.")
        long maxSize = Long.MAX_VALUE;

        @Option(names = "--newer-than", paramLabel = "AGE|DATE",
                description = "Copy only source objects modified within this age (24h, 7d) or after this date"
                        + " (2026-01-31); --delete still keeps what the source has that is older.")
        String newerThan;

        @Option(names = "--bwlimit", paramLabel = "RATE", converter = Sizes.Rate.class,
                description = "Limit the whole run to this rate (200MB/s, 50MiB/s): copies, and the checksum reads"
                        + " and read-backs of objects in an object store (a copy inside one object store sends no"
                        + " bytes, and is not paced).")
        long bandwidth;

        @ArgGroup(exclusive = true)
        CompareChoice compare;

        @Option(names = "--read-back", description = "Read each written object back and check its CRC32C.")
        boolean readBack;

        @Option(names = {"-L", "--follow-links"}, description = FOLLOW_LINKS_HELP)
        boolean followLinks;

        @Option(names = {"-j", "--concurrency"}, defaultValue = "64",
                description = "Objects in flight at once (default: ${DEFAULT-VALUE}).")
        int concurrency;

        @Option(names = "--part-size", paramLabel = "SIZE", converter = Sizes.PartSize.class,
                description = PART_SIZE_HELP)
        Long partSize;

        Syncer.Options toOptions(Instant now) {
            Instant since = newerThan == null ? null : Sizes.parseSince(newerThan, now);
            Filter filter = new Filter(includes, excludes, minSize, maxSize, since);
            Syncer.Compare mode = compare == null ? Syncer.Compare.CHECKSUM
                    : compare.sizeOnly ? Syncer.Compare.SIZE_ONLY
                    : compare.sizeMtime ? Syncer.Compare.SIZE_MTIME : Syncer.Compare.CHECKSUM;
            return new Syncer.Options(concurrency, mode, delete, dryRun, filter, bandwidth, readBack, followLinks);
        }

        /** The arguments that reproduce these options, for a stored task. */
        List<String> toArguments() {
            List<String> args = new ArrayList<>();
            if (delete) {
                args.add("--delete");
            }
            includes.forEach(g -> args.addAll(List.of("--include", g)));
            excludes.forEach(g -> args.addAll(List.of("--exclude", g)));
            if (minSize > 0) {
                args.addAll(List.of("--min-size", Long.toString(minSize)));
            }
            if (maxSize != Long.MAX_VALUE) {
                args.addAll(List.of("--max-size", Long.toString(maxSize)));
            }
            if (newerThan != null) {
                args.addAll(List.of("--newer-than", newerThan));
            }
            if (bandwidth > 0) {
                args.addAll(List.of("--bwlimit", Long.toString(bandwidth)));
            }
            if (compare != null && compare.sizeOnly) {
                args.add("--size-only");
            }
            if (compare != null && compare.sizeMtime) {
                args.add("--size-mtime");
            }
            if (readBack) {
                args.add("--read-back");
            }
            if (followLinks) {
                args.add("--follow-links");
            }
            args.addAll(List.of("--concurrency", Integer.toString(concurrency)));
            if (partSize != null) {
                args.addAll(List.of("--part-size", Long.toString(partSize)));
            }
            return args;
        }
    }

    static final class CompareChoice {
        @Option(names = "--checksum", description = "Compare size and CRC32C (the default).")
        boolean checksum;

        @Option(names = "--size-mtime", description = "Compare size and modification time (cheaper, as rclone).")
        boolean sizeMtime;

        @Option(names = "--size-only", description = "Compare size only.")
        boolean sizeOnly;
    }
}
