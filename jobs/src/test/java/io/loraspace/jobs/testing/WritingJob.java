package io.loraspace.jobs.testing;

import io.loraspace.common.error.FormatException;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.JobRunner;
import io.loraspace.jobs.cli.OptionResolver;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FSDataOutputStream;

/**
 * A job without Spark for output-protocol tests: writes {@code files} files {@code part-<i>.txt} (and one in a
 * subdirectory) whose content is {@code value + i}; fails after {@code fail-after} files when that is ≥ 0. Its
 * {@link #main} runs it in a child JVM (the crash tests kill that JVM at a publish step).
 */
public final class WritingJob implements Job {
  @Override
  public String name() {
    return "write-test";
  }

  @Override
  public String summary() {
    return "test job";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("value", OptionType.STRING, "v1", "content")
        .option("files", OptionType.INT, "3", "how many files")
        .option("fail-after", OptionType.INT, "-1", "fail after this many files")
        .option("nested", OptionType.BOOLEAN, "false", "also write sub/part-<i>.txt")
        .build();
  }

  @Override
  public void run(JobContext ctx) throws IOException {
    int files = ctx.options().getInt("files");
    int failAfter = ctx.options().getInt("fail-after");
    String value = ctx.options().getString("value");
    for (int i = 0; i < files; i++) {
      if (i == failAfter) {
        throw new FormatException("Input 'in.parquet' row 7: bad block");
      }
      write(ctx, "part-" + i + ".txt", value + i);
      if (ctx.options().getBoolean("nested")) {
        write(ctx, "sub/part-" + i + ".txt", value + "/sub" + i);
      }
    }
    ctx.manifest().count("files", files).input("memory://test", "generated");
  }

  private static void write(JobContext ctx, String rel, String content) throws IOException {
    try (FSDataOutputStream out = ctx.outputFileSystem().create(new org.apache.hadoop.fs.Path(ctx.staging(), rel),
        true)) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Resolved options of this job from {@code key=value} settings. */
  public static Options options(List<String> sets) {
    WritingJob job = new WritingJob();
    return new OptionResolver(job.name(), JobRunner.specOf(job), Set.of(job.name())).resolve(List.of(), sets);
  }

  /** {@code key=value...}: runs the job; exit 0 on success, 1 on failure. */
  public static void main(String[] args) {
    try {
      JobRunner.run(new WritingJob(), options(List.of(args)));
      System.out.println("write-test: done");
      System.exit(0);
    } catch (Exception e) {
      System.err.println("write-test: error: " + e.getMessage());
      System.exit(1);
    }
  }
}
