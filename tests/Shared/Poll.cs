namespace Actors.Tests.Shared;

/// <summary>Waits for a condition with a bounded deadline instead of sleeping a guessed time.</summary>
public static class Poll
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        T value = await probe();
        while (!done(value))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}; last value: {Describe(value)}");
            await Task.Delay(20);
            value = await probe();
        }

        return value;
    }

    private static string Describe<T>(T value) => value switch
    {
        string text => text,
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>()) + "]",
        _ => $"{value}",
    };
}
