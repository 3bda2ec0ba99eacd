package ferry.cli;

import ferry.dataset.DatasetCatalog;
import ferry.dataset.DatasetRef;
import ferry.dataset.InvalidManifestException;
import ferry.dataset.Manifest;
import ferry.dataset.VerifyReport;
import ferry.store.Location;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = "Immutable, versioned datasets: manifests with checksums, kept in the store itself.",
        subcommands = {DatasetCommand.Create.class, DatasetCommand.Ls.class, DatasetCommand.Show.class,
                DatasetCommand.Verify.class})
final class DatasetCommand {
    @ParentCommand
    Ferry ferry;

    @Option(names = {"-j", "--concurrency"}, defaultValue = "64", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Objects read at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    DatasetCatalog catalog() {
        return new DatasetCatalog(ferry.stores(), ferry.storeLocation(), ferry.clock, concurrency);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Record every object under a location as the next version of a dataset.")
    static final class Create implements Callable<Integer> {
        @ParentCommand
        DatasetCommand dataset;

        @Parameters(paramLabel = "NAME", description = "The dataset's name, such as cifar.")
        String name;

        @Option(names = "--from", required = true, paramLabel = "LOCATION",
                description = "The prefix or folder whose objects make up the version.")
        String from;

        @Option(names = "--md5", description = "Also record each object's MD5 (as single-part S3 ETags carry it).")
        boolean md5;

        @Option(names = "--json", description = "Print the new manifest's summary as JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException, InterruptedException {
            Ferry ferry = dataset.ferry;
            DatasetRef.checkName(name);
            long start = System.nanoTime();
            Manifest manifest;
            try (Progress progress = Progress.start(ferry, "checksummed")) {
                manifest = dataset.catalog().create(name, Location.of(from), md5, DatasetCatalog.KnownChecksums.NONE,
                        progress);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (json) {
                Json.print(ferry.out, summary(manifest, dataset.catalog()));
            } else {
                ferry.out.printf("created %s: %s objects, %s from %s in %.2f s%n", manifest.ref(),
                        Units.count(manifest.summary().objects()), Units.bytes(manifest.summary().bytes()),
                        manifest.base(), seconds);
                ferry.out.println("manifest: " + dataset.catalog().manifestLocation(name, manifest.version()));
            }
            return Ferry.OK;
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List datasets and their latest versions.")
    static final class Ls implements Callable<Integer> {
        @ParentCommand
        DatasetCommand dataset;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Ferry ferry = dataset.ferry;
            DatasetCatalog catalog = dataset.catalog();
            List<Map<String, Object>> rows = new ArrayList<>();
            List<String> damaged = new ArrayList<>();
            for (String name : catalog.names()) {
                List<Integer> versions = catalog.versions(name);
                Map<String, Object> row;
                try {
                    row = summary(catalog.load(new DatasetRef(name, versions.getLast())), catalog);
                } catch (InvalidManifestException e) {
                    // One damaged manifest must not hide the other datasets: list it as such and go on.
                    damaged.add(e.getMessage());
                    row = new LinkedHashMap<>();
                    row.put("name", name);
                    row.put("version", versions.getLast());
                    row.put("error", e.getMessage());
                }
                row.put("versions", versions);
                rows.add(row);
            }
            damaged.forEach(ferry.err::println);
            int exitCode = damaged.isEmpty() ? Ferry.OK : Ferry.FAILED;
            if (json) {
                Json.print(ferry.out, rows);
                return exitCode;
            }
            if (rows.isEmpty()) {
                ferry.err.println("no datasets in " + ferry.storeLocation()
                        + "; create one with: ferry dataset create NAME --from LOCATION");
                return Ferry.OK;
            }
            ferry.out.printf("%-24s %8s %12s %12s  %-20s  %s%n", "NAME", "LATEST", "OBJECTS", "SIZE", "CREATED",
                    "BASE");
            for (Map<String, Object> row : rows) {
                if (row.containsKey("error")) {
                    ferry.out.printf("%-24s %8s  (its manifest is damaged: see above)%n", row.get("name"),
                            "v" + row.get("version"));
                    continue;
                }
                ferry.out.printf("%-24s %8s %12s %12s  %-20s  %s%n", row.get("name"), "v" + row.get("version"),
                        Units.count((Long) row.get("objects")), Units.bytes((Long) row.get("bytes")),
                        row.get("createdAt").toString().substring(0, 19), row.get("base"));
            }
            return exitCode;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show one version (NAME for the latest, NAME@vN for another): summary, lineage, histogram.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        DatasetCommand dataset;

        @Parameters(paramLabel = "NAME[@vN]")
        String ref;

        @Option(names = "--json", description = "Print the whole manifest as JSON.")
        boolean json;

        @Option(names = "--entries", description = "Also list every object: size, CRC32C, key.")
        boolean entries;

        @Override
        public Integer call() throws IOException {
            Ferry ferry = dataset.ferry;
            Manifest manifest = dataset.catalog().load(DatasetRef.parse(ref));
            if (json) {
                Json.print(ferry.out, manifest);
                return Ferry.OK;
            }
            ferry.out.println("dataset:      " + manifest.ref());
            ferry.out.println("base:         " + manifest.base());
            ferry.out.println("created:      " + manifest.createdAt());
            ferry.out.println("derived from: " + (manifest.derivedFrom() == null ? "-" : manifest.derivedFrom()));
            ferry.out.println("objects:      " + Units.count(manifest.summary().objects()));
            ferry.out.println("size:         " + Units.bytes(manifest.summary().bytes()) + " ("
                    + Units.count(manifest.summary().bytes()) + " bytes)");
            ferry.out.println("manifest:     " + dataset.catalog().manifestLocation(manifest.name(), manifest.version()));
            ferry.out.println("sizes:");
            for (Manifest.SizeClass sizeClass : manifest.summary().histogram()) {
                if (sizeClass.objects() > 0) {
                    ferry.out.printf("  %-14s %10s objects %12s%n", sizeClass.label(), Units.count(sizeClass.objects()),
                            Units.bytes(sizeClass.bytes()));
                }
            }
            if (entries) {
                for (Manifest.Entry entry : manifest.entries()) {
                    ferry.out.printf("%12d  %s  %s%n", entry.size(), entry.crc32c(), entry.key());
                }
            }
            return Ferry.OK;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Re-read every object of a version and check its size and CRC32C; exit 1 on any mismatch.")
    static final class Verify implements Callable<Integer> {
        @ParentCommand
        DatasetCommand dataset;

        @Parameters(paramLabel = "NAME[@vN]")
        String ref;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException, InterruptedException {
            Ferry ferry = dataset.ferry;
            DatasetCatalog catalog = dataset.catalog();
            Manifest manifest = catalog.load(DatasetRef.parse(ref));
            VerifyReport report;
            try (Progress progress = Progress.start(ferry, "verified")) {
                report = catalog.verify(manifest, progress);
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("dataset", report.dataset());
                out.put("ok", report.succeeded());
                out.put("objects", report.objects());
                out.put("bytes", report.bytes());
                out.put("seconds", Units.secondsOf(report.elapsed()));
                out.put("mismatches", report.mismatches());
                Json.print(ferry.out, out);
            } else {
                ferry.out.printf("verified %s: %s of %s objects intact (%s) in %s%n", report.dataset(),
                        Units.count(report.objects()), Units.count(manifest.entries().size()),
                        Units.bytes(report.bytes()), Units.seconds(report.elapsed()));
                CpCommand.printFailures(ferry, report.mismatches());
            }
            return report.succeeded() ? Ferry.OK : Ferry.FAILED;
        }
    }

    static Map<String, Object> summary(Manifest manifest, DatasetCatalog catalog) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", manifest.name());
        row.put("version", manifest.version());
        row.put("ref", manifest.ref().toString());
        row.put("base", manifest.base());
        row.put("createdAt", manifest.createdAt().toString());
        row.put("derivedFrom", manifest.derivedFrom());
        row.put("objects", manifest.summary().objects());
        row.put("bytes", manifest.summary().bytes());
        row.put("manifest", catalog.manifestLocation(manifest.name(), manifest.version()).toString());
        return row;
    }
}
