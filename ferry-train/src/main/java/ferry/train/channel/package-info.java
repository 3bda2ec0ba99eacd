/**
 * Channels: how a job's input reaches its process. {@link ferry.train.channel.ChannelPlan} lists a source (S3Prefix,
 * ManifestFile, AugmentedManifestFile, in any store) and deals this host its share
 * ({@link ferry.train.channel.Sharding}: ShardedByS3Key); {@link ferry.train.channel.FileChannel} stages it (File
 * mode); {@link ferry.train.channel.FastFilePlan} and {@link ferry.train.channel.FastFileMounts} mount an S3Prefix for
 * the life of the job instead (FastFile mode); {@link ferry.train.channel.FileSystemChannel} checks a folder used in
 * place (FileSystem mode).
 */
package ferry.train.channel;
