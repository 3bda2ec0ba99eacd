package ferry.train;

import ferry.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * Runs one job in a JVM of its own, as {@code ferry train} does, for tests that kill the runner: the argument is the
 * request file; FERRY_HOME and the store settings come from the environment.
 */
public final class RunJobMain {
    private RunJobMain() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> environment = System.getenv();
        Path home = Path.of(environment.get("FERRY_HOME"));
        try (Stores stores = Stores.fromEnvironment(environment)) {
            TrainingRequest request = new RequestParser(environment, home).parse(Path.of(args[0]));
            new JobRunner(new JobStore(home.resolve("jobs"), Clock.systemUTC()), stores, environment,
                    Clock.systemUTC(), JobRunner.Options.DEFAULT, System.out::println).run(request);
        }
    }
}
