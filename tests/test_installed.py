import sys

from nlpkit.installed import package_folder


def test_a_package_is_found_without_being_imported():
    imported = "pyvi" in sys.modules
    folder = package_folder("pyvi")
    assert (folder / "models" / "words.txt").is_file()
    assert ("pyvi" in sys.modules) == imported


def test_a_dotted_package_is_found():
    assert package_folder("email.mime").name == "mime"


def test_no_folder_for_a_module_or_a_missing_package():
    assert package_folder("math") is None  # a module, not a package
    assert package_folder("no_such_package_for_nlpkit") is None
