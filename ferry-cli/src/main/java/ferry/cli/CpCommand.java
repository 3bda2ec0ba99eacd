package ferry.cli;

import ferry.store.Location;
import ferry.transfer.CopyReport;
import ferry.transfer.Copier;
import ferry.transfer.Failure;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "cp", mixinStandardHelpOptions = true,
        description = {"Copy an object, or a folder's contents, between any two locations.",
                "A SOURCE that names a folder or prefix copies everything below it, keeping keys (as"
                        + " 'aws s3 cp --recursive' and 'rclone copy' do). Existing objects are replaced.",
                "Examples:  ferry cp ./images s3://bucket/images/    ferry cp s3://bucket/images/ /scratch/images"})
final class CpCommand implements Callable<Integer> {
    @ParentCommand
    Ferry ferry;

    @Parameters(index = "0", paramLabel = "SOURCE", description = "A path, file:///path or s3://bucket/prefix.")
    String source;

    @Parameters(index = "1", paramLabel = "DESTINATION", description = "A path, file:///path or s3://bucket/prefix.")
    String destination;

    @Option(names = {"-j", "--concurrency"}, defaultValue = "64",
            description = "Objects in flight at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--part-size", paramLabel = "SIZE", converter = Sizes.PartSize.class,
            description = SyncCommand.PART_SIZE_HELP)
    Long partSize;

    @Option(names = {"-L", "--follow-links"}, description = SyncCommand.FOLLOW_LINKS_HELP)
    boolean followLinks;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Copier copier = new Copier(ferry.stores(partSize), new Copier.Options(concurrency, followLinks), ferry.clock);
        CopyReport report;
        try (Progress progress = Progress.start(ferry, "copied")) {
            report = copier.copy(Location.of(source), Location.of(destination), progress);
        }
        if (json) {
            Json.print(ferry.out, toJson(report));
        } else {
            ferry.out.printf("copied %s objects (%s) in %s: %s/s, %.0f objects/s%n", Units.count(report.objects()),
                    Units.bytes(report.bytes()), Units.seconds(report.elapsed()), Units.bytes(report.bytesPerSecond()),
                    report.objectsPerSecond());
            printFailures(ferry, report.failures());
        }
        return report.succeeded() ? Ferry.OK : Ferry.FAILED;
    }

    /** Prints failures by key, at most {@link #SHOWN_FAILURES} of them, then how many failed and the commonest causes. */
    static void printFailures(Ferry ferry, List<Failure> failures) {
        for (Failure failure : failures.subList(0, Math.min(failures.size(), SHOWN_FAILURES))) {
            ferry.err.println("FAILED " + Escapes.name(failure.key()) + ": " + Escapes.text(failure.reason()));
        }
        if (failures.size() > SHOWN_FAILURES) {
            ferry.err.println("... and " + Units.count(failures.size() - SHOWN_FAILURES) + " more (--json lists all)");
        }
        if (!failures.isEmpty()) {
            Map<String, Long> causes = new java.util.TreeMap<>();
            for (Failure failure : failures) {
                String reason = failure.reason();
                int cut = reason.indexOf(" (while");
                causes.merge(cut > 0 ? reason.substring(0, cut) : reason, 1L, Long::sum);
            }
            boolean oneCause = causes.size() == 1 && failures.size() > 1;
            ferry.err.println(Units.count(failures.size()) + " object(s) failed"
                    + (oneCause ? ", all with: " + causes.keySet().iterator().next() : ""));
        }
    }

    static final int SHOWN_FAILURES = 10;

    static Map<String, Object> toJson(CopyReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("source", report.source());
        json.put("destination", report.destination());
        json.put("objects", report.objects());
        json.put("bytes", report.bytes());
        json.put("seconds", Units.secondsOf(report.elapsed()));
        json.put("bytesPerSecond", Math.round(report.bytesPerSecond()));
        json.put("objectsPerSecond", Math.round(report.objectsPerSecond()));
        json.put("failures", report.failures());
        json.put("passedOver", report.passedOver());
        return json;
    }
}
