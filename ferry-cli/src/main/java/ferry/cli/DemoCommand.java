package ferry.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ferry.dataset.DatasetCatalog;
import ferry.dataset.Manifest;
import ferry.dataset.VerifyReport;
import ferry.store.Location;
import ferry.train.JobDescription;
import ferry.train.JobRunner;
import ferry.train.JobStore;
import ferry.train.TinyTrainer;
import ferry.train.TrainingRequest;
import ferry.train.channel.FastFileMounts;
import ferry.transfer.CopyReport;
import ferry.transfer.Copier;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run Ferry end to end on a generated CIFAR-10-like dataset, with nothing but a JDK:",
                "generate small images on 'on-premises' disk, copy them into the store, record a dataset version,"
                        + " verify it, train on it with a built-in trainer (File, FastFile and FileSystem channels),"
                        + " and print"
                        + " how long each step and training phase took."})
final class DemoCommand implements Callable<Integer> {
    static final String[] CLASSES = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
            "truck"};

    @ParentCommand
    Ferry ferry;

    @Option(names = "--images", defaultValue = "5000",
            description = "How many 32x32 PNG images to generate (default: ${DEFAULT-VALUE}).")
    int images;

    private record Step(String name, double seconds, String detail) {}

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (images < CLASSES.length) {
            throw new IllegalArgumentException("--images must be at least " + CLASSES.length + ", was " + images);
        }
        List<Step> steps = new ArrayList<>();
        Path onPrem = ferry.home().resolve("demo/on-prem/cifar10-like");
        Location storeData = ferry.storeLocation().resolve("demo/cifar10-like/");
        ferry.out.println("Ferry demo: store " + ferry.storeLocation());

        long t = System.nanoTime();
        long bytes = generate(onPrem, images);
        steps.add(new Step("generate", since(t), Units.count(images) + " PNG files, " + Units.bytes(bytes)
                + " in " + onPrem));
        ferry.out.println("  " + steps.getLast().detail());

        t = System.nanoTime();
        CopyReport copy;
        try (Progress progress = Progress.start(ferry, "copied")) {
            copy = new Copier(ferry.stores(), Copier.Options.DEFAULT, ferry.clock)
                    .copy(Location.of(onPrem).asDirectory(), storeData, progress);
        }
        if (!copy.succeeded()) {
            CpCommand.printFailures(ferry, copy.failures());
            return Ferry.FAILED;
        }
        steps.add(new Step("copy to store", since(t), Units.count(copy.objects()) + " objects to " + storeData));
        ferry.out.println("  copied " + steps.getLast().detail());

        DatasetCatalog catalog = new DatasetCatalog(ferry.stores(), ferry.storeLocation(), ferry.clock, 64);
        t = System.nanoTime();
        Manifest manifest;
        try (Progress progress = Progress.start(ferry, "checksummed")) {
            manifest = catalog.create("cifar10-demo", storeData, false, DatasetCatalog.KnownChecksums.NONE,
                    progress);
        }
        steps.add(new Step("dataset create", since(t), manifest.ref() + ", manifest "
                + catalog.manifestLocation(manifest.name(), manifest.version())));
        ferry.out.println("  created " + steps.getLast().detail());

        t = System.nanoTime();
        VerifyReport verify;
        try (Progress progress = Progress.start(ferry, "verified")) {
            verify = catalog.verify(manifest, progress);
        }
        steps.add(new Step("dataset verify", since(t), Units.count(verify.objects()) + " objects intact, "
                + verify.mismatches().size() + " mismatches"));
        ferry.out.println("  verified " + steps.getLast().detail());
        if (!verify.succeeded()) {
            CpCommand.printFailures(ferry, verify.mismatches());
            return Ferry.FAILED;
        }

        // Train on the same images with the built-in trainer: staged from the store first (File), mounted from the
        // store and read on demand (FastFile), and read in place from the on-premises folder (FileSystem), to show
        // what waiting for data costs. Without FUSE on this machine the FastFile run is left out, with the reason.
        List<String> modes = new ArrayList<>(List.of("File", "FastFile", "FileSystem"));
        String noFuse = FastFileMounts.fuseProblem(ferry.environment);
        if (noFuse != null) {
            modes.remove("FastFile");
            ferry.out.println("  not training in FastFile mode: " + noFuse);
        }
        List<JobDescription> trained = new ArrayList<>();
        for (String mode : modes) {
            t = System.nanoTime();
            JobDescription job = train(mode, storeData.resolve("train/"), onPrem.resolve("train"));
            trained.add(job);
            steps.add(new Step("train " + mode, since(t), job.name() + ": " + job.status() + ", model "
                    + job.modelArtifacts()));
            ferry.out.println("  trained " + steps.getLast().detail());
            if (!job.status().equals(JobDescription.COMPLETED)) {
                ferry.err.println("ferry: demo training job " + job.name() + " ended " + job.status() + ": "
                        + job.failureReason() + "; see: ferry jobs logs " + job.name());
                return Ferry.FAILED;
            }
        }

        ferry.out.println();
        ferry.out.printf("%-16s %9s%n", "step", "seconds");
        for (Step step : steps) {
            ferry.out.printf("%-16s %9.2f%n", step.name(), step.seconds());
        }
        ferry.out.println();
        StringBuilder header = new StringBuilder(String.format("%-16s", "phase"));
        modes.forEach(mode -> header.append(String.format(" %11s", mode)));
        ferry.out.println(header + "   (seconds per training phase)");
        for (String phase : JobDescription.PHASES) {
            StringBuilder row = new StringBuilder(String.format("%-16s", phase));
            trained.forEach(job -> row.append(String.format(Locale.ROOT, " %11.2f", job.phaseSeconds().get(phase))));
            ferry.out.println(row);
        }
        StringBuilder before = new StringBuilder(String.format("%-16s", "before training"));
        trained.forEach(job -> before.append(String.format(Locale.ROOT, " %11.2f", beforeTraining(job))));
        ferry.out.println(before + "   (waiting for data before training)");
        ferry.out.println();
        ferry.out.println("Next: ferry dataset show " + manifest.ref() + "   ferry ls " + storeData
                + "   ferry jobs describe " + trained.getFirst().name());
        return Ferry.OK;
    }

    private static double beforeTraining(JobDescription job) {
        return job.phaseSeconds().get("Starting") + job.phaseSeconds().get("Downloading");
    }

    /**
     * Runs the built-in trainer ({@link TinyTrainer}, with this JDK) as a training job on the demo images: a File
     * channel staged from the store, a FastFile channel mounted from the store, or a FileSystem channel on the
     * on-premises folder. Replaces the previous demo's job of the same name.
     */
    private JobDescription train(String mode, Location staged, Path inPlace) throws IOException, InterruptedException {
        String name = "ferry-demo-" + mode.toLowerCase(Locale.ROOT);
        JobStore jobs = TrainCommand.jobs(ferry);
        try {
            jobs.delete(name);
        } catch (JobStore.NoSuchJobException e) {
            // the first demo on this machine
        }
        ObjectNode request = JsonNodeFactory.instance.objectNode();
        request.put("TrainingJobName", name);
        ArrayNode command = request.putObject("AlgorithmSpecification").put("TrainingInputMode", "File")
                .putArray("Command");
        TinyTrainer.command().forEach(command::add);
        request.putObject("HyperParameters").put("epochs", "3").put("learning-rate", "0.5");
        ObjectNode channel = request.putArray("InputDataConfig").addObject().put("ChannelName", "train");
        if (mode.equals("File") || mode.equals("FastFile")) {
            channel.put("InputMode", mode);
            channel.putObject("DataSource").putObject("S3DataSource").put("S3Uri", staged.toString())
                    .put("S3DataType", "S3Prefix");
        } else {
            channel.putObject("DataSource").putObject("FileSystemDataSource").put("DirectoryPath", inPlace.toString())
                    .put("FileSystemAccessMode", "ro");
        }
        request.putObject("OutputDataConfig").put("S3OutputPath",
                ferry.storeLocation().resolve("demo/output/").toString());
        request.putObject("StoppingCondition").put("MaxRuntimeInSeconds", 3600);
        TrainingRequest parsed = TrainCommand.parser(ferry).parse(request.toString(), false, "the demo's " + name,
                ferry.home());
        return new JobRunner(jobs, ferry.stores(), ferry.environment, ferry.clock, TrainCommand.options(ferry),
                line -> {
                    if (!line.startsWith("[ferry ")) {
                        ferry.out.println("    | " + line);
                    }
                }).run(parsed);
    }

    private static double since(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Writes {@code count} small PNG images, one folder per class, deterministically, replacing an earlier demo's.
     * Each class has its own colour and pattern so the images are not all alike.
     */
    static long generate(Path folder, int count) throws IOException {
        long total = 0;
        Random random = new Random(42);
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) {
            int label = i % CLASSES.length;
            int base = (label * 0x1F3D5B7) & 0xFFFFFF;
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int stripe = ((x * (label + 1) + y) / 4) % 2 == 0 ? 0x202020 : 0;
                    image.setRGB(x, y, (base ^ stripe ^ (random.nextInt() & 0x0F0F0F)) & 0xFFFFFF);
                }
            }
            png.reset();
            ImageIO.write(image, "png", png);
            Path file = folder.resolve("train/" + CLASSES[label] + "/" + String.format("%05d.png", i));
            Files.createDirectories(file.getParent());
            Files.write(file, png.toByteArray());
            total += png.size();
        }
        return total;
    }
}
