namespace Actors.Hvctl;

/// <summary>
/// Finds built guest images for <c>hvctl demo</c>: the repository's <c>guests/build</c> above the current directory
/// or above hvctl itself, and otherwise the copy the installed .NET tool carries in <c>guests/build</c> beside
/// hvctl.dll (see Hvctl.csproj), which the same walk finds first from <see cref="AppContext.BaseDirectory"/>.
/// </summary>
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
