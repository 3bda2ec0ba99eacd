package ferry.train;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A small SageMaker-style training script written in Java, so that {@code ferry demo} trains on a machine that
 * has nothing but a JDK: it reads images from {@code SM_CHANNEL_TRAIN} ({@code <class>/<file>.png}), takes
 * {@code --epochs} and {@code --learning-rate} as arguments, fits a softmax classifier on 4x4 colour averages,
 * writes {@code model.json} to {@code SM_MODEL_DIR} and {@code metrics.json} to {@code SM_OUTPUT_DATA_DIR}, and
 * explains a failure in {@code output/failure}, as a Python script would.
 *
 * <p>Run it as the job's command: {@code java -cp <ferry-train.jar> ferry.train.TinyTrainer}.
 */
public final class TinyTrainer {
    private static final int GRID = 4;
    private static final int FEATURES = GRID * GRID * 3 + 1;

    private TinyTrainer() {}

    public static void main(String[] args) {
        try {
            train(args);
        } catch (Exception e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            System.err.print(trace);
            String output = System.getenv().getOrDefault("SM_OUTPUT_DIR", "/opt/ml/output");
            try {
                Files.writeString(Path.of(output, "failure"), e.toString() + "\n", StandardCharsets.UTF_8);
            } catch (IOException ignored) {
                // nowhere to explain the failure but the log, which already has it
            }
            System.exit(1);
        }
    }

    private static void train(String[] args) throws IOException {
        int epochs = 3;
        double learningRate = 0.5;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--epochs" -> epochs = Integer.parseInt(args[i + 1]);
                case "--learning-rate", "--lr" -> learningRate = Double.parseDouble(args[i + 1]);
                default -> System.out.println("ignoring hyperparameter " + args[i]);
            }
        }
        Path data = Path.of(required("SM_CHANNEL_TRAIN"));
        Path modelDir = Path.of(required("SM_MODEL_DIR"));
        Path outputDir = Path.of(System.getenv().getOrDefault("SM_OUTPUT_DATA_DIR", modelDir.toString()));

        List<String> classes;
        try (Stream<Path> folders = Files.list(data)) {
            classes = folders.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
        if (classes.isEmpty()) {
            throw new IOException("no class folders in " + data + ": expected <class>/<image>.png");
        }
        List<double[]> samples = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        long start = System.nanoTime();
        for (int label = 0; label < classes.size(); label++) {
            List<Path> files;
            try (Stream<Path> list = Files.list(data.resolve(classes.get(label)))) {
                files = list.filter(p -> p.toString().endsWith(".png")).sorted().toList();
            }
            for (Path file : files) {
                BufferedImage image = ImageIO.read(file.toFile());
                if (image == null) {
                    throw new IOException(file + " is not a readable image");
                }
                samples.add(features(image));
                labels.add(label);
            }
        }
        System.out.printf(Locale.ROOT, "read %d images of %d classes in %.2f s%n", samples.size(), classes.size(),
                (System.nanoTime() - start) / 1e9);

        double[][] weights = new double[classes.size()][FEATURES];
        Random random = new Random(7);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            order.add(i);
        }
        double accuracy = 0;
        double loss = 0;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            java.util.Collections.shuffle(order, random);
            loss = 0;
            int correct = 0;
            for (int index : order) {
                double[] x = samples.get(index);
                int y = labels.get(index);
                double[] p = softmax(weights, x);
                loss -= Math.log(Math.max(p[y], 1e-12));
                if (argmax(p) == y) {
                    correct++;
                }
                for (int c = 0; c < weights.length; c++) {
                    double gradient = p[c] - (c == y ? 1 : 0);
                    for (int f = 0; f < FEATURES; f++) {
                        weights[c][f] -= learningRate * gradient * x[f];
                    }
                }
            }
            loss /= samples.size();
            accuracy = (double) correct / samples.size();
            System.out.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, accuracy %.3f%n", epoch, epochs, loss, accuracy);
        }

        Files.createDirectories(modelDir);
        StringBuilder model = new StringBuilder("{\"classes\": [");
        for (int c = 0; c < classes.size(); c++) {
            model.append(c == 0 ? "" : ", ").append('"').append(classes.get(c)).append('"');
        }
        model.append("], \"grid\": ").append(GRID).append(", \"weights\": [");
        for (int c = 0; c < weights.length; c++) {
            model.append(c == 0 ? "" : ", ").append(java.util.Arrays.toString(weights[c]));
        }
        model.append("]}\n");
        Files.writeString(modelDir.resolve("model.json"), model, StandardCharsets.UTF_8);
        Files.createDirectories(outputDir);
        Files.writeString(outputDir.resolve("metrics.json"), String.format(Locale.ROOT,
                "{\"images\": %d, \"epochs\": %d, \"loss\": %.6f, \"accuracy\": %.6f}%n", samples.size(), epochs,
                loss, accuracy), StandardCharsets.UTF_8);
        System.out.println("saved model to " + modelDir.resolve("model.json"));
    }

    private static String required(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException(name + " is not set: run this as a training job (ferry train)");
        }
        return value;
    }

    private static double[] features(BufferedImage image) {
        double[] x = new double[FEATURES];
        int cellWidth = Math.max(1, image.getWidth() / GRID);
        int cellHeight = Math.max(1, image.getHeight() / GRID);
        for (int y = 0; y < image.getHeight(); y++) {
            for (int col = 0; col < image.getWidth(); col++) {
                int cell = Math.min(GRID - 1, y / cellHeight) * GRID + Math.min(GRID - 1, col / cellWidth);
                int rgb = image.getRGB(col, y);
                x[cell * 3] += ((rgb >> 16) & 0xff) / 255.0;
                x[cell * 3 + 1] += ((rgb >> 8) & 0xff) / 255.0;
                x[cell * 3 + 2] += (rgb & 0xff) / 255.0;
            }
        }
        double pixels = (double) cellWidth * cellHeight;
        for (int f = 0; f < FEATURES - 1; f++) {
            x[f] /= pixels;
        }
        x[FEATURES - 1] = 1; // bias
        return x;
    }

    private static double[] softmax(double[][] weights, double[] x) {
        double[] scores = new double[weights.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < weights.length; c++) {
            double score = 0;
            for (int f = 0; f < x.length; f++) {
                score += weights[c][f] * x[f];
            }
            scores[c] = score;
            max = Math.max(max, score);
        }
        double sum = 0;
        for (int c = 0; c < scores.length; c++) {
            scores[c] = Math.exp(scores[c] - max);
            sum += scores[c];
        }
        for (int c = 0; c < scores.length; c++) {
            scores[c] /= sum;
        }
        return scores;
    }

    private static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The command that runs this trainer with the JDK running Ferry: java, its class path, this class. */
    public static List<String> command() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String classPath;
        try {
            classPath = Path.of(TinyTrainer.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
        } catch (java.net.URISyntaxException | NullPointerException e) {
            classPath = System.getProperty("java.class.path");
        }
        return List.of(java.toString(), "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classPath,
                TinyTrainer.class.getName());
    }
}
