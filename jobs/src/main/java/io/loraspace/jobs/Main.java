package io.loraspace.jobs;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.LoraspaceException;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobRegistry;
import io.loraspace.jobs.cli.JobRunner;
import io.loraspace.jobs.cli.OptionResolver;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.Options;
import io.loraspace.jobs.correct.CorrectJob;
import io.loraspace.jobs.init.PrepareJob;
import io.loraspace.jobs.jobs.DemoJob;
import io.loraspace.jobs.jobs.DoctorJob;
import io.loraspace.jobs.jobs.InitJob;
import io.loraspace.jobs.jobs.ReconstructJob;
import io.loraspace.jobs.jobs.RecycleJob;
import io.loraspace.jobs.jobs.SyntheticAdaptersJob;
import io.loraspace.jobs.jobs.StatsJob;
import io.loraspace.jobs.jobs.SyntheticCorpusJob;
import io.loraspace.jobs.merge.MergeJob;
import io.loraspace.jobs.merge.SyntheticMergeJob;
import io.loraspace.jobs.spark.SparkSessions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code loraspace} command line: {@code loraspace <command> [--conf FILE]... [--set key=value]... [--help]}.
 * The same entry point serves {@code spark-submit} (the master comes from it) and the embedded launcher (local mode).
 *
 * <p>Exit codes: 0 success, 1 the job failed, 2 the command line was wrong. A failure prints exactly one line to
 * standard error, last: {@code loraspace <command>: error: <what was wrong>}.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  /** The registered jobs. */
  public static JobRegistry registry() {
    return new JobRegistry(List.of(new DemoJob(), new StatsJob(), new InitJob(), new PrepareJob(), new SyntheticCorpusJob(),
        new RecycleJob(), new ReconstructJob(), new SyntheticAdaptersJob(), new CorrectJob(), new MergeJob(),
        new SyntheticMergeJob(), new DoctorJob()));
  }

  public static void main(String[] args) {
    ByteArrayOutputStream errorLine = new ByteArrayOutputStream();
    int code = run(args, System.out, new PrintStream(errorLine, true, StandardCharsets.UTF_8));
    if (code != 0) {
      String line = errorLine.toString(StandardCharsets.UTF_8);
      if (SparkSessions.created() > 0) {
        // Spark's shutdown hooks log after main returns ("Shutdown hook called", temp-dir deletion); a hook of lower
        // priority than all of Spark's runs after them, so the error stays the last line on standard error.
        org.apache.spark.util.ShutdownHookManager.addShutdownHook(0, new scala.runtime.AbstractFunction0<scala.runtime.BoxedUnit>() {
          @Override
          public scala.runtime.BoxedUnit apply() {
            System.err.print(line);
            System.err.flush();
            return scala.runtime.BoxedUnit.UNIT;
          }
        });
      } else {
        System.err.print(line);
        System.err.flush();
      }
      System.exit(code);
    }
  }

  /** Runs the CLI and returns the exit code (tests call this; {@link #main} exits with it). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    JobRegistry registry = registry();
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
      if (args.length >= 2 && !args[0].startsWith("-")) {
        Job job = registry.get(args[1]);
        if (job == null) {
          err.println("loraspace help: error: unknown command '" + args[1] + "'");
          return 2;
        }
        out.print(jobHelp(job));
        return 0;
      }
      out.print(generalHelp(registry));
      return 0;
    }
    String command = args[0];
    if (command.equals("version") || command.equals("--version")) {
      out.println("loraspace " + BuildInfo.version() + " (git " + BuildInfo.gitCommit()
          + (BuildInfo.gitDirty() ? ", modified" : "") + "; built for Spark " + BuildInfo.sparkVersionBuiltAgainst()
          + ", Scala " + "2.13" + "; Java " + System.getProperty("java.version") + ")");
      return 0;
    }
    Job job = registry.get(command);
    if (job == null) {
      err.println("loraspace: error: unknown command '" + command + "' (commands: help, version, "
          + String.join(", ", registry.all().keySet()) + ")");
      return 2;
    }
    List<Path> confs = new ArrayList<>();
    List<String> sets = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        out.print(jobHelp(job));
        return 0;
      } else if (a.equals("--conf") || a.equals("--set")) {
        if (i + 1 >= args.length) {
          err.println("loraspace " + command + ": error: " + a + " needs a value");
          return 2;
        }
        if (a.equals("--conf")) {
          confs.add(Path.of(args[++i]));
        } else {
          sets.add(args[++i]);
        }
      } else if (a.startsWith("--conf=")) {
        confs.add(Path.of(a.substring("--conf=".length())));
      } else if (a.startsWith("--set=")) {
        sets.add(a.substring("--set=".length()));
      } else {
        err.println("loraspace " + command + ": error: unexpected argument '" + a
            + "' (use --conf FILE and --set key=value; see loraspace " + command + " --help)");
        return 2;
      }
    }
    Options options;
    try {
      options = new OptionResolver(command, JobRunner.specOf(job), registry.all().keySet()).resolve(confs, sets);
    } catch (ArgumentException e) {
      err.println("loraspace " + command + ": error: " + e.getMessage());
      return 2;
    }
    try {
      String where = JobRunner.run(job, options);
      out.println("loraspace " + command + ": done; output at " + where);
      return 0;
    } catch (Throwable t) {
      LOG.debug("Job failed", t);
      LoraspaceException known = findKnown(t);
      if (known == null) {
        LOG.error("{} failed", command, t);
      }
      err.println("loraspace " + command + ": error: " + oneLine(known != null ? known.getMessage() : describe(t)));
      return 1;
    }
  }

  /** The first LoraspaceException in the cause chain (Spark wraps task failures). */
  static LoraspaceException findKnown(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof LoraspaceException) {
        return (LoraspaceException) c;
      }
      for (Throwable s : c.getSuppressed()) {
        LoraspaceException k = findKnown(s);
        if (k != null) {
          return k;
        }
      }
    }
    return null;
  }

  private static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String msg = root.getMessage();
    return root.getClass().getSimpleName() + (msg != null ? ": " + msg : "");
  }

  private static String oneLine(String s) {
    if (s == null) {
      return "unknown error";
    }
    int nl = s.indexOf('\n');
    return (nl >= 0 ? s.substring(0, nl) : s).trim();
  }

  static String generalHelp(JobRegistry registry) {
    StringBuilder sb = new StringBuilder();
    sb.append("loraspace ").append(BuildInfo.version()).append(": Spark batch jobs that compute LoRA subspaces\n\n");
    sb.append("usage: loraspace <command> [--conf FILE]... [--set key=value]... [--help]\n\n");
    sb.append("commands:\n");
    sb.append(String.format("  %-14s %s%n", "help [command]", "this text, or every option of a command"));
    sb.append(String.format("  %-14s %s%n", "version", "version, git commit and Spark/Java versions"));
    for (Job j : registry.all().values()) {
      sb.append(String.format("  %-14s %s%n", j.name(), j.summary()));
    }
    sb.append("\nOptions resolve as: --set (command line) over --conf files over defaults. Keys starting with spark.\n"
        + "are Spark settings. Without spark-submit the job runs in local mode in this JVM.\n");
    return sb.toString();
  }

  static String jobHelp(Job job) {
    OptionSpec spec = JobRunner.specOf(job);
    StringBuilder sb = new StringBuilder();
    sb.append("loraspace ").append(job.name()).append(": ").append(job.summary()).append("\n\n");
    sb.append("usage: loraspace ").append(job.name()).append(" [--conf FILE]... [--set key=value]...\n\n");
    sb.append("options (key, type, default, description):\n");
    for (OptionSpec.Def d : spec.defs().values()) {
      String def = d.required() ? "(required)" : ("'" + d.defaultText() + "'");
      sb.append(String.format("  %-24s %-26s %-14s %s%s%n", d.key(), d.type().description(), def, d.doc(),
          d.checkDoc() != null ? " [" + d.checkDoc() + "]" : ""));
    }
    sb.append("  spark.*                  Spark settings, passed to the session\n");
    return sb.toString();
  }
}
