/**
 * Training jobs: a SageMaker {@code CreateTrainingJob} request run as a local process with SageMaker's
 * {@code /opt/ml} contract.
 *
 * <p>What a user of the API needs: {@link ferry.train.RequestParser} reads and checks a request (JSON or YAML) into
 * a {@link ferry.train.TrainingRequest}; {@link ferry.train.JobRunner} runs it and returns its
 * {@link ferry.train.JobDescription}; {@link ferry.train.JobStore} lists, describes, stops and removes the jobs of
 * a Ferry home. {@link ferry.train.TinyTrainer} is a small JDK-only training script for the demo.
 */
package ferry.train;
