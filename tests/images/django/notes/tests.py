from django.core.files.storage import default_storage
from django.test import TestCase

from .models import Note


class NoteTests(TestCase):
    def test_notes_are_listed(self):
        Note.objects.create(text="first")
        response = self.client.get("/")
        self.assertContains(response, "<li>first</li>")

    def test_a_posted_note_is_saved_with_its_file(self):
        response = self.client.post("/", {"text": "second"})
        self.assertEqual(response.status_code, 302)
        note = Note.objects.get()
        self.assertEqual(note.text, "second")
        self.assertTrue(default_storage.exists(f"notes/{note.pk}.txt"))
