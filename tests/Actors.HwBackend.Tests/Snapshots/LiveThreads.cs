namespace Actors.HwBackend.Tests.Snapshots;

/// <summary>
/// The process's OS threads by name, from <c>/proc/self/task</c>: .NET gives a named thread its name
/// at the OS level too (cut to 15 characters), so a worker's vCPU and timer threads can be counted
/// without the worker exposing them.
/// </summary>
internal static class LiveThreads
{
    public static int Named(string prefix)
    {
        int count = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n').StartsWith(prefix, StringComparison.Ordinal))
                    count++;
            }
            catch (IOException)
            {
                // The thread ended while we looked.
            }
        }
        return count;
    }
}
