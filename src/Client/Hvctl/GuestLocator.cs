namespace Actors.Hvctl;

/// <summary>Finds the repository's built guest images for <c>hvctl demo</c>, wherever hvctl was started from.</summary>
internal static class GuestLocator
{
    public static string? Find(string fileName)
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "guests", "build", fileName);
                if (File.Exists(candidate))
                    return candidate;
            }
        }

        return null;
    }
}
