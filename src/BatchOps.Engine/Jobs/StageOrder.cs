namespace BatchOps.Engine.Jobs;

/// <summary>Checks the stages' dependencies and puts them in an order that runs every dependency first.</summary>
public static class StageOrder
{
    /// <summary>
    /// The stages in dependency order (ties keep the written order). Throws <see cref="ArgumentException"/>
    /// naming the problem: an empty or repeated name, an unknown dependency, or a cycle ("a -> b -> a").
    /// </summary>
    public static IReadOnlyList<JobStage> Sort(IReadOnlyList<JobStage> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        var byName = new Dictionary<string, JobStage>(StringComparer.OrdinalIgnoreCase);
        foreach (var stage in stages)
        {
            if (string.IsNullOrWhiteSpace(stage.Name))
            {
                throw new ArgumentException("Every stage needs a name.");
            }

            if (!byName.TryAdd(stage.Name, stage))
            {
                throw new ArgumentException($"Two stages are named '{stage.Name}'; stage names must be unique.");
            }
        }

        foreach (var stage in stages)
        {
            foreach (var dependency in stage.DependsOn)
            {
                if (!byName.ContainsKey(dependency))
                {
                    throw new ArgumentException($"Stage '{stage.Name}' depends on '{dependency}', which is not a stage of the job. Stages: {string.Join(", ", stages.Select(s => s.Name))}.");
                }

                if (string.Equals(dependency, stage.Name, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArgumentException($"Stage '{stage.Name}' depends on itself (dependency cycle: {stage.Name} -> {stage.Name}).");
                }
            }
        }

        // Depth-first, in written order: a stage is placed after all it depends on; meeting a stage that is
        // still on the path is a cycle, reported from where it starts.
        var order = new List<JobStage>(stages.Count);
        var state = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var path = new List<string>();
        void Visit(JobStage stage)
        {
            switch (state.GetValueOrDefault(stage.Name))
            {
                case 2:
                    return;
                case 1:
                    var start = path.FindIndex(n => string.Equals(n, stage.Name, StringComparison.OrdinalIgnoreCase));
                    var cycle = path.Skip(start).Append(stage.Name);
                    throw new ArgumentException($"Dependency cycle: {string.Join(" -> ", cycle)}. Remove one of these dependsOn entries.");
            }

            state[stage.Name] = 1;
            path.Add(stage.Name);
            foreach (var dependency in stage.DependsOn)
            {
                Visit(byName[dependency]);
            }

            path.RemoveAt(path.Count - 1);
            state[stage.Name] = 2;
            order.Add(stage);
        }

        foreach (var stage in stages)
        {
            Visit(stage);
        }

        return order;
    }
}
