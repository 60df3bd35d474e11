package io.loraspace.jobs.correct;

import io.loraspace.common.correct.CorrectionMethod;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.safetensors.ShardedCheckpoint;
import io.loraspace.common.io.safetensors.TensorInfo;
import io.loraspace.jobs.inputs.AdapterCollection;
import io.loraspace.jobs.inputs.LocalFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The correct job's checks and tasks, before Spark starts: the collection's configs and headers, both checkpoints'
 * headers, and for every target module that base and aligned hold the weight with one shape, and that every adapter's
 * factors fit it. Failures name the adapter, module, tensor, files and shapes.
 */
final class CorrectPlan {

  /** Resolved settings. */
  static final class Settings {
    String adapters;
    String base;
    String aligned;
    List<CorrectionMethod> methods = new ArrayList<>();
    List<String> targetModules = List.of();
    Dtype dtype = Dtype.F32;
    boolean skipCorrupt;
  }

  final Settings settings;
  final AdapterCollection collection;
  final List<CorrectTasks.ModuleTask> tasks = new ArrayList<>();

  private CorrectPlan(Settings settings, AdapterCollection collection) {
    this.settings = settings;
    this.collection = collection;
  }

  static String localPath(String option, String value) {
    if (!LocalFiles.isLocal(new Path(value))) {
      throw new ArgumentException("Option '" + option + "' is '" + value + "': checkpoints must be on a file system "
          + "every executor mounts (local disk or NFS); copy it there first");
    }
    return new Path(value).toUri().getPath();
  }

  static CorrectPlan of(Configuration conf, Settings s, String staging) {
    if (s.methods.isEmpty()) {
      throw new ArgumentException("Option 'methods' is empty; choose from " + CorrectMethods.names());
    }
    String base = localPath("base", s.base);
    String aligned = localPath("aligned", s.aligned);
    List<Pattern> patterns = new ArrayList<>();
    for (String t : s.targetModules) {
      try {
        patterns.add(Pattern.compile(t));
      } catch (PatternSyntaxException e) {
        throw new ArgumentException("Option 'target-modules' has '" + t + "', not a regular expression: "
            + e.getDescription());
      }
    }
    CorrectPlan plan = new CorrectPlan(s, AdapterCollection.scan(conf, s.adapters, s.skipCorrupt));
    List<AdapterCollection.Adapter> adapters = plan.collection.adapters;
    Map<String, String> names = new HashMap<>();
    for (AdapterCollection.Adapter a : adapters) {
      String other = names.put(a.name, a.dir);
      if (other != null) {
        throw new ArgumentException("Adapters " + other + " and " + a.dir + " have the same directory name '" + a.name
            + "', which names their output directories; rename one");
      }
    }
    TreeSet<String> modules = new TreeSet<>();
    for (AdapterCollection.Adapter a : adapters) {
      for (String m : a.shapes.keySet()) {
        if (patterns.isEmpty() || patterns.stream().anyMatch(p -> p.matcher(m).find())) {
          modules.add(m);
        }
      }
    }
    if (modules.isEmpty()) {
      throw new ArgumentException("Option 'target-modules' " + s.targetModules + " matches no module of the "
          + "adapters in '" + s.adapters + "'");
    }
    try (ShardedCheckpoint b = ShardedCheckpoint.open(java.nio.file.Path.of(base));
        ShardedCheckpoint al = ShardedCheckpoint.open(java.nio.file.Path.of(aligned))) {
      for (String m : modules) {
        String weight = m + ".weight";
        long[] shape = shapeIn(b, weight, m, "base", s.base, adapters);
        long[] other = shapeIn(al, weight, m, "aligned", s.aligned, adapters);
        if (!Arrays.equals(shape, other)) {
          throw new FormatException("Tensor '" + weight + "' has shape " + Arrays.toString(shape)
              + " in base checkpoint " + s.base + " but " + Arrays.toString(other) + " in aligned checkpoint "
              + s.aligned);
        }
        CorrectTasks.ModuleTask t = new CorrectTasks.ModuleTask();
        t.module = m;
        t.weight = weight;
        t.out = (int) shape[0];
        t.in = (int) shape[1];
        t.base = base;
        t.aligned = aligned;
        t.methods = s.methods;
        t.staging = staging;
        t.dtype = s.dtype;
        for (int i = 0; i < adapters.size(); i++) {
          AdapterCollection.Adapter a = adapters.get(i);
          int[] sh = a.shapes.get(m);
          if (sh == null) {
            continue;
          }
          if (sh[1] != t.in || sh[2] != t.out) {
            throw new FormatException("Adapter " + a.dir + " module '" + m + "' is in→out " + sh[1] + "→" + sh[2]
                + " but tensor '" + weight + "' of base checkpoint " + s.base + " has shape [" + t.out + ", " + t.in
                + "]: was the adapter trained on another base model?");
          }
          t.adapterIndex.add(i);
          t.adapterDir.add(a.dir);
          t.scalings.add(a.scaling.get(m));
        }
        plan.tasks.add(t);
      }
    }
    return plan;
  }

  private static long[] shapeIn(ShardedCheckpoint c, String weight, String module, String role, String where,
      List<AdapterCollection.Adapter> adapters) {
    if (!c.contains(weight)) {
      String owner = adapters.stream().filter(a -> a.shapes.containsKey(module)).findFirst().map(a -> a.dir)
          .orElse("?");
      throw new FormatException("Module '" + module + "' (adapter " + owner + ") has no weight '" + weight + "' in "
          + role + " checkpoint " + where);
    }
    TensorInfo info = c.info(weight);
    if (info.rank() != 2 || !info.dtype().isFloating()) {
      throw new FormatException("Tensor '" + weight + "' of " + role + " checkpoint " + where + " is "
          + info.dtype() + " " + info.shapeString() + ", expected a 2-D F32, BF16 or F16 Linear weight [out, in]");
    }
    return info.shape();
  }
}
